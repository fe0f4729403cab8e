"""Alembic migrations of the ticket store (applied at start-up by `serve.db.migrate`)."""
