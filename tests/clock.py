"""
The suite's clock: every in-process test runs at one frozen instant, so that
it passes whatever day the suite runs on.

time-machine moves ``time.time``, ``datetime.now`` and ``timezone.now``
(model field defaults included) forward from ``SUITE_NOW``; the clock ticks,
so timeouts and durations still behave. Tests marked ``browser`` or ``slow``
talk to other processes (Chromium, gunicorn, workers) that keep the real
clock, so they keep it too; their dates come from helpers that the date check
below covers.

The date check: ``pytest --every-date`` runs each test marked ``clock`` (the
ones that read the clock) once at every instant in ``CHECK_INSTANTS``: each
day of one week, both daylight-saving changes in Europe/Berlin and in
America/New_York, and New Year's Eve. A test that only works on some days
(say, "the day after tomorrow is a weekday") fails there, named by its
instant. ``TEST_NOW=2027-03-28T00:30:00Z`` runs the whole suite at one instant.

Tests that name calendar dates (a window "on Thursday 26 November") stop the
clock at ``FIXED_NOW`` instead, with ``at()`` or time-machine's fixture.

Loaded as a plugin (``-p tests.clock`` in pyproject.toml) so that the test of
the check itself can load it into a fresh pytest run.
"""

import os
from datetime import UTC, datetime

import pytest
import time_machine

# A Wednesday morning in Berlin. Any instant would do: the date check proves it.
SUITE_NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)

# Tuesday 24 November 2026, 09:00 UTC: Thursday 26 November is two days ahead.
FIXED_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

CHECK_INSTANTS = {
    "mon": datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
    "tue": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    "wed": datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    "thu": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    "fri": datetime(2026, 12, 4, 16, 45, tzinfo=UTC),
    "sat": datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
    "sun": datetime(2026, 12, 6, 22, 30, tzinfo=UTC),
    # Half an hour before each change, so that "24 hours later" crosses it.
    "new-york-spring-forward": datetime(2027, 3, 14, 6, 30, tzinfo=UTC),
    "berlin-spring-forward": datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
    "berlin-fall-back": datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
    "new-york-fall-back": datetime(2027, 11, 7, 5, 30, tzinfo=UTC),
    "new-years-eve": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
}


def suite_now():
    """The instant the suite runs at: TEST_NOW (ISO 8601) when set, else SUITE_NOW."""
    value = os.environ.get("TEST_NOW", "").strip()
    if not value:
        return SUITE_NOW
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def at(moment):
    """Stop the clock at ``moment`` for a ``with`` block (``as traveller`` moves it on)."""
    return time_machine.travel(moment, tick=False)


def pytest_addoption(parser):
    parser.addoption(
        "--every-date",
        action="store_true",
        help="Run each test marked 'clock' at every instant in tests/clock.py CHECK_INSTANTS.",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "clock: reads the clock; the date check runs it each day")


def pytest_generate_tests(metafunc):
    if metafunc.config.getoption("every_date") and metafunc.definition.get_closest_marker("clock"):
        metafunc.parametrize(
            "clock_instant",
            list(CHECK_INSTANTS.values()),
            ids=[f"at-{label}" for label in CHECK_INSTANTS],
            indirect=True,
            scope="function",
        )


def pytest_collection_modifyitems(config, items):
    """With --every-date, run only the clock tests: the rest do not read the clock."""
    if config.getoption("every_date"):
        kept = [item for item in items if item.get_closest_marker("clock")]
        deselected = [item for item in items if not item.get_closest_marker("clock")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def clock_instant(request):
    """The frozen instant of this test (a CHECK_INSTANTS value under --every-date)."""
    return getattr(request, "param", None) or suite_now()


@pytest.fixture(autouse=True)
def frozen_clock(request, clock_instant):
    """Freeze the clock at the test's instant, letting it tick from there."""
    if request.node.get_closest_marker("browser") or request.node.get_closest_marker("slow"):
        yield None
        return
    with time_machine.travel(clock_instant, tick=True):
        yield clock_instant
