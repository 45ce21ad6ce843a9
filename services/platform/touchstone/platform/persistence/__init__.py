"""Postgres: connection pools and each service's forward-only migrations."""
