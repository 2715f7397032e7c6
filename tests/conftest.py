"""Fixtures every test shares: the collected static files, an empty cache, the
personas; and how the suite spreads over pytest-xdist's workers."""

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import settings as hypothesis_settings

from tests.factories import make_staff, make_user

# Where the browser tests save their screenshots (tests/browser/conftest.py).
SCREENSHOT_DIR_KEY = pytest.StashKey[Path]()

# Fixtures for fault tests: redis_server, hanging_socket, cache_down.
pytest_plugins = ["tests.support.faults"]

# CI explores the same inputs on every run, so that a red build points at a
# change, not at a dice roll; developers' runs keep exploring new inputs.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


def pytest_configure(config):
    """Name this run's screenshot folder once (SCREENSHOT_DIR overrides it).

    Named in the first process and passed on through the environment, so that
    xdist's workers, started later, write where the summary points.
    """
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = os.environ["SCREENSHOT_DIR"] = str(
            Path(settings.BASE_DIR) / "test-artifacts" / "screenshots" / stamp
        )
    config.stash[SCREENSHOT_DIR_KEY] = Path(folder)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(items):
    """Tests that start servers or drive the browser run on one xdist worker, one
    after another (``--dist loadgroup``): they share Redis on 6379, free ports
    and the screenshot folder, and the load test's time limit wants the other
    core undisturbed by another server."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("servers"))


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """In-process tests hash passwords with MD5, as Django's testing docs advise:
    the real hasher costs most of a second per user made or signed in, which
    the personas do in hundreds of tests. Servers the tests start keep the
    production hasher (their own settings)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def collected_static(django_db_blocker):
    """Pages reference hashed static files, so build the manifest once per run.

    Each xdist worker collects in turn (a lock file beside STATIC_ROOT): two
    collectstatic runs writing the same manifest at once could leave it torn.
    """
    lock_path = Path(f"{settings.STATIC_ROOT}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            call_command("collectstatic", "--noinput", verbosity=0)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached pages and rate-limit counters
    must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


# The personas: who uses the site, each made the same way in every module. They
# sign in with tests.factories.PASSWORD; a test signs one in with
# ``client.force_login(triager)``.


@pytest.fixture
def visitor(db):
    """Someone signed in without staff rights: the admin and the staff pages stay closed."""
    return make_user("visitor")


@pytest.fixture
def editor(db):
    """Eddie, in the Editors group: writes, publishes and restores comparisons."""
    return make_staff("eddie", group="Editors")


@pytest.fixture
def triager(db):
    """Tess, in the Triage group: answers consultation requests and reads the report."""
    return make_staff("tess", group="Triage")


@pytest.fixture
def superuser(db):
    """Root, who may do anything, erasure included."""
    return make_user("root", is_staff=True, is_superuser=True)


def pytest_sessionfinish(session):
    """On an xdist worker, hand the recorded figures to the controller, which prints them."""
    from tests.support.figures import FIGURES

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Under xdist: gather each worker's figures (see pytest_sessionfinish)."""
    from tests.support.figures import FIGURES

    FIGURES.update(getattr(node, "workeroutput", {}).get("figures", {}))


def pytest_terminal_summary(terminalreporter, config):
    """Print the figures the reliability tests recorded (see tests/support/figures.py)
    and where the browser tests left their screenshots."""
    from tests.support.figures import FIGURES

    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES.values():
            terminalreporter.write_line(line)
    folder = config.stash.get(SCREENSHOT_DIR_KEY, None)
    if folder is not None and folder.exists() and any(folder.iterdir()):
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"Screenshots of each page at both widths: {folder}")
