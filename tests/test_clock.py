"""The suite's clock (tests/clock.py): frozen at one instant, and a date check
that catches a test which holds only on some days."""

import os
import re
import subprocess
import sys
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from tests.clock import CHECK_INSTANTS, SUITE_NOW, suite_now

# The mistake the booking test once made ("the day after" the first window was
# a Saturday every Wednesday), next to the right way of finding a weekday.
PLANTED = """
from datetime import UTC, datetime, timedelta

import pytest


@pytest.mark.clock
def test_the_day_after_tomorrow_is_a_weekday():
    assert (datetime.now(UTC) + timedelta(days=2)).weekday() < 5


@pytest.mark.clock
def test_walking_to_the_next_weekday_holds_on_any_day():
    day = datetime.now(UTC) + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert day.weekday() < 5 and day - datetime.now(UTC) < timedelta(days=5)


def test_an_unmarked_test_is_left_out():
    pass
"""


def run_planted(tmp_path, *args, test_now=""):
    """Run the planted tests in a fresh pytest with only the clock plugin."""
    (tmp_path / "test_planted.py").write_text(PLANTED)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "TEST_NOW")
    }
    environment.update(PYTHONPATH=str(settings.BASE_DIR), TEST_NOW=test_now)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.clock", "-p", "no:django"]
        + ["-p", "no:cacheprovider", "-rA", "-q", *args, "test_planted.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result


def outcomes(output, outcome):
    return set(re.findall(rf"^{outcome} test_planted.py::(\S+)", output, flags=re.M))


def test_the_suite_runs_at_its_frozen_instant():
    assert abs(timezone.now() - suite_now()) < timedelta(minutes=1)


def test_the_date_check_fails_a_test_that_holds_only_on_some_days(tmp_path):
    result = run_planted(tmp_path, "--every-date")
    assert result.returncode == 1, result.stdout
    failed = outcomes(result.stdout, "FAILED")
    passed = outcomes(result.stdout, "PASSED")
    # Two days after a Thursday, a Friday or New Year's Eve (a Thursday) is a weekend.
    assert failed == {
        "test_the_day_after_tomorrow_is_a_weekday[at-thu]",
        "test_the_day_after_tomorrow_is_a_weekday[at-fri]",
        "test_the_day_after_tomorrow_is_a_weekday[at-new-years-eve]",
    }
    assert len(passed) == 2 * len(CHECK_INSTANTS) - 3
    assert {
        f"test_walking_to_the_next_weekday_holds_on_any_day[at-{label}]"
        for label in (CHECK_INSTANTS)
    } <= passed
    assert "1 deselected" in result.stdout


def test_without_the_check_the_same_test_passes_on_the_suites_wednesday(tmp_path):
    # Which is why the check exists: the frozen instant alone hides the mistake.
    assert SUITE_NOW.weekday() == 2
    result = run_planted(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "3 passed" in result.stdout


def test_test_now_moves_the_whole_suite(tmp_path):
    friday = run_planted(tmp_path, test_now="2026-12-04T10:00:00Z")
    assert friday.returncode == 1
    assert outcomes(friday.stdout, "FAILED") == {"test_the_day_after_tomorrow_is_a_weekday"}
