"""Alembic environment: the engine comes from storage.db (``config.attributes['engine']``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from -x db=... or VNNEWS_DB
    import os

    url = context.get_x_argument(as_dictionary=True).get("db") or os.environ.get(
        "VNNEWS_DB", "sqlite:///data/vnnews.db"
    )
    engine = create_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
