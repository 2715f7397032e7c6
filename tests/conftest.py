import os

import pytest
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import settings as hypothesis_settings

# Fixtures for fault tests: redis_server, hanging_socket, cache_down.
pytest_plugins = ["tests.support.faults"]

# CI explores the same inputs on every run, so that a red build points at a
# change, not at a dice roll; developers' runs keep exploring new inputs.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def collected_static(django_db_blocker):
    """Pages reference hashed static files, so build the manifest once per run."""
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached pages and rate-limit counters
    must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


def pytest_terminal_summary(terminalreporter):
    """Print the figures the reliability tests recorded (see tests/support/figures.py)."""
    from tests.support.figures import FIGURES

    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES.values():
            terminalreporter.write_line(line)
