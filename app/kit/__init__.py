"""Shared building blocks of every domain: configuration, database, ids, crypto, serialization, pagination, errors."""
