"""Alembic environment: migrations run on the connection `db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from aggregator.store.schema import Base

connection = context.config.attributes["connection"]
# Batch mode lets SQLite, which alters tables only in limited ways, take every migration.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
