"""PostgreSQL connections carry a connect timeout, a statement timeout and TCP
dead-peer detection (tcp_user_timeout, keepalives), from the environment."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from tests.support.faults import ROOT
from tests.support.missing import require_postgresql


def database_options(**environment):
    """OPTIONS of the default database as settings.py builds them from ``environment``."""
    script = (
        "import json; from compare_site import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"SECRET_KEY": settings.SECRET_KEY, "PATH": "/usr/bin:/bin", **environment},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


DEAD_PEER = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def test_postgres_defaults_fail_within_seconds():
    options = database_options(DATABASE_URL="postgres://postgres@127.0.0.1:5432/compare")
    assert options == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=5s",
        "tcp_user_timeout": 5000,
        **DEAD_PEER,
    }


def test_the_timeouts_come_from_the_environment():
    options = database_options(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/compare",
        DB_CONNECT_TIMEOUT="10",
        DB_STATEMENT_TIMEOUT="0",
        DB_TCP_USER_TIMEOUT_MS="20000",
    )
    assert options == {
        "connect_timeout": 10,
        "options": "-c statement_timeout=0s",
        "tcp_user_timeout": 20000,
        **DEAD_PEER,
    }


def test_sqlite_gets_no_postgres_options():
    # Only its own: transactions that take the write lock as they begin (slot holds).
    assert database_options(DATABASE_URL="sqlite:////tmp/unused.sqlite3") == {
        "transaction_mode": "IMMEDIATE"
    }


@pytest.mark.django_db
def test_the_server_applies_the_statement_timeout():
    require_postgresql(connection)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("5s",)
        # A statement over the timeout is an OperationalError: the 503 page (handler500).
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
        with pytest.raises(OperationalError):
            cursor.execute("SELECT pg_sleep(1)")


@pytest.mark.django_db
def test_an_open_connection_gives_up_on_a_vanished_server():
    """libpq got the TCP settings that end a wait on a server that went away
    mid-connection (unacknowledged data after 5 s, or a silent idle peer)."""
    require_postgresql(connection)
    connection.ensure_connection()
    parameters = connection.connection.info.get_parameters()
    assert parameters["tcp_user_timeout"] == "5000"
    assert {name: parameters[name] for name in DEAD_PEER} == {
        name: str(value) for name, value in DEAD_PEER.items()
    }
