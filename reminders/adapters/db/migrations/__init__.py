"""Alembic migrations, shipped inside the package and run by `reminders init`."""
