"""Key and password adapters: the dispatch log's signing key and console password hashing."""
