"""One rule for tests whose server or tool is missing: skip with a message on
a developer's machine, fail in CI (CI=true), where nothing may skip silently."""

import os

import pytest


def skip_or_fail_in_ci(message):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_postgresql(connection):
    """Skip (fail in CI) when the test database is not PostgreSQL."""
    if connection.vendor != "postgresql":
        skip_or_fail_in_ci("This test needs PostgreSQL: set DATABASE_URL (CI does).")
