"""Databases for the servers and workers a test starts in other processes."""

import os
import uuid
from contextlib import contextmanager


@contextmanager
def throwaway_postgresql_database(server_url, prefix):
    """A new database named ``prefix_<random>`` on the PostgreSQL server of
    ``server_url``, dropped afterwards; yields its URL. The random part keeps
    xdist workers and repeated runs apart."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    base = server_url.rsplit("/", 1)[0]
    admin_dsn = base.replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database_url(prefix, sqlite_path):
    """An empty database's URL: a throwaway database on the PostgreSQL server of
    DATABASE_URL, or else a SQLite file at ``sqlite_path``."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{sqlite_path}"
        return
    with throwaway_postgresql_database(database_url, prefix) as url:
        yield url
