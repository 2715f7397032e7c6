"""The staff report's figures on a known data set."""

import csv
import io
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import ConsultationRequest
from consultations.reports import build_report, nearest_rank
from tests.factories import make_consultation
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Tuesday of ISO week 2026-W48


def november(day, hour):
    """An instant in November 2026, on the hour (UTC)."""
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def answered(day, hour, after_hours, **fields):
    received = november(day, hour)
    return make_consultation(
        received_at=received, first_response_at=received + timedelta(hours=after_hours), **fields
    )


@pytest.fixture
def known_requests():
    """Week 46: two on time, one late, one spam. Week 47: one on time, one overdue,
    one duplicate. Week 48: one still within its 24 hours."""
    return {
        "a": answered(9, 10, 2, status="contacted"),
        "b": answered(10, 10, 30, status="completed"),
        "c": answered(11, 10, 24, status="declined"),  # exactly at respond_by: on time
        "spam": make_consultation(received_at=november(11, 12), status="spam"),
        "d": answered(16, 9, 1, status="scheduled", scheduled_start=november(20, 9)),
        "e": make_consultation(received_at=november(17, 9)),
        "dup": answered(17, 10, 40, status="duplicate"),
        "f": make_consultation(received_at=november(24, 8)),
    }


class TestFigures:
    def test_requests_by_status(self, known_requests):
        report = build_report(ConsultationRequest.objects.all(), now=NOW)
        assert report.by_status == [
            ("New", 2),
            ("Contacted", 1),
            ("Scheduled", 1),
            ("Completed", 1),
            ("Declined", 1),
            ("Spam", 1),
            ("Duplicate", 1),
        ]
        assert report.total == 8

    def test_share_answered_within_24_hours_per_week(self, known_requests):
        report = build_report(ConsultationRequest.objects.all(), now=NOW)
        weeks = [(w.label, w.received, w.settled, w.on_time, w.share) for w in report.weeks]
        assert weeks == [
            ("2026-W46", 3, 3, 2, 66.7),
            ("2026-W47", 2, 2, 1, 50.0),
            ("2026-W48", 1, 0, 0, None),
        ]

    def test_median_and_90th_percentile_time_to_first_response(self, known_requests):
        # Counted responses: 2, 30, 24 and 1 hours (spam and duplicate left out).
        report = build_report(ConsultationRequest.objects.all(), now=NOW)
        assert report.median_hours == 13.0
        assert report.p90_hours == 30.0

    def test_breaches(self, known_requests):
        report = build_report(ConsultationRequest.objects.all(), now=NOW)
        assert [row["reference"] for row in report.breaches] == [
            known_requests["b"].reference,
            known_requests["e"].reference,
        ]

    def test_nearest_rank(self):
        assert nearest_rank(list(range(1, 11)), 90) == 9
        assert nearest_rank([5], 90) == 5
        assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10

    def test_percentiles_match_pythons_over_the_same_rows_at_every_count(self):
        # Odd and even counts, ties, a half hour; spam never counts.
        make_consultation(received_at=november(1, 9), status="spam")
        hours = []
        for day, delay in enumerate([7, 1, 30, 2, 24, 13, 3, 48, 5, 5, 26, 0.5], start=1):
            answered(day, 10, delay, status="completed")
            hours.append(delay)
            report = build_report(ConsultationRequest.objects.all(), now=NOW)
            # The median: the middle value, the mean of the two middle ones for an even count.
            assert report.median_hours == round(statistics.median(hours), 2), hours
            assert report.p90_hours == nearest_rank(hours, 90), hours
            late = [delay - 24 for delay in hours if delay > 24]
            recovery = round(statistics.median(late), 2) if late else None
            assert report.median_recovery_hours == recovery, hours

    def test_no_requests(self):
        report = build_report(ConsultationRequest.objects.all(), now=NOW)
        assert report.weeks == [] and report.median_hours is None and report.breaches == []


class TestPages:
    @pytest.fixture
    def staff_client(self, client, monkeypatch, triager):
        # The page reports as of "now"; pin it so the data set's figures hold any day.
        monkeypatch.setattr(timezone, "now", lambda: NOW)
        client.force_login(triager)
        return client

    def test_the_page_shows_the_figures_and_an_svg_chart(self, staff_client, known_requests):
        response = staff_client.get(reverse("consultations:report"))
        text = page_text(response)
        body = response.content.decode()
        assert "66.7%" in text and "50.0%" in text
        assert "Median 13.0 hours" in text and "90th percentile 30.0 hours" in text
        assert "Breaches (2)" in text
        assert known_requests["b"].reference in text and known_requests["e"].reference in text
        assert known_requests["a"].reference not in text
        assert body.count('class="chart__bar"') == 3
        heights = re.findall(r'height="([\d.]+)" class="chart__bar"', body)
        # The chart's bars are 180 units tall at 100%.
        assert heights == ["120.1", "90.0", "0.0"]
        # The frame comes from reports.CHART: 640 wide, the bars on y=200, labels below.
        assert 'viewBox="0 0 640 230"' in body and 'x2="640" y2="200"' in body
        assert "<script" not in body

    def test_csv_export_holds_the_same_data(self, staff_client, known_requests):
        response = staff_client.get(reverse("consultations:report") + "?format=csv")
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert ["New", "2"] in rows
        assert ["2026-W46", "3", "3", "2", "66.7"] in rows
        assert ["2026-W48", "1", "0", "0", ""] in rows
        assert ["median", "13.0"] in rows and ["90th percentile", "30.0"] in rows
        breach_rows = [row for row in rows if row and row[0] == known_requests["e"].reference]
        assert breach_rows == [
            [known_requests["e"].reference, "2026-11-17 09:00", "2026-11-18 09:00", "", "", "New"]
        ]
