"""Persistence: SQLAlchemy models, queries, unit-of-work services and Alembic migrations."""
