"""Registry adapters: reading the population and document registers' extracts."""
