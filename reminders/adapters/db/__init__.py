"""Database adapters: the engine, the ORM, the schema's migrations and the stores."""
