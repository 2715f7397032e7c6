"""The triage queue and the report cost the same however many requests there are.

The bench measures them at 100,000 and 1,000,000 requests (bench/consultations.py)
and bench/explain_triage.py prints their plans; here the query counts are pinned
at 10 and at 50 requests, the count beyond QueuePaginator's limit is an
estimate the page calls one, and on PostgreSQL the queue's views use their indexes.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultations.admin import QueuePaginator
from consultations.models import ConsultationRequest
from consultations.reports import build_report
from tests.factories import make_consultation
from tests.support.missing import require_postgresql
from tests.support.pages import page_text

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

QUEUE_URL = reverse("admin:consultations_consultationrequest_changelist")
REPORT_URL = reverse("consultations:report")
VIEWS = ["", "?queue=unassigned", "?queue=overdue", "?queue=all", "?status__exact=completed"]
VIEWS += ["?queue=all&q=visitor"]
STATUSES = ["new", "contacted", "completed", "declined", "spam"]


def add_requests(count, staff):
    """``count`` requests over the last 30 days, in every kind of state."""
    now = timezone.now()
    for number in range(count):
        status = STATUSES[number % len(STATUSES)]
        received = now - timedelta(days=number % 30, hours=number % 24)
        answered = status in ("contacted", "completed", "declined")
        make_consultation(
            received_at=received,
            status=status,
            first_response_at=received + timedelta(hours=number % 40) if answered else None,
            assignee=staff if number % 2 else None,
        )


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def triager_client(client, triager):
    client.force_login(triager)
    return client


class TestQueryCounts:
    def test_the_queue_and_the_report_make_as_many_queries_at_50_requests_as_at_10(
        self, triager_client, triager
    ):
        add_requests(10, triager)
        at_10 = {url: queries_for(triager_client, QUEUE_URL + url) for url in VIEWS}
        report_at_10 = queries_for(triager_client, REPORT_URL)
        add_requests(40, triager)
        at_50 = {url: queries_for(triager_client, QUEUE_URL + url) for url in VIEWS}
        report_at_50 = queries_for(triager_client, REPORT_URL)
        assert at_50 == at_10
        assert report_at_50 == report_at_10
        # The session, the user, their own and their groups' permissions, then the
        # page's own: the assignee filter's choices, the queue's count and its rows,
        # the triager's own timezone (for the reply-by times); the report's counts
        # in one pass over the requests (by week and status), its three percentiles
        # each read at its rank, and the latest breaches.
        assert at_10[""] == 8
        assert report_at_10 == 9

    def test_the_report_figures_on_the_page_come_from_the_same_queries(self, triager_client):
        received = timezone.now() - timedelta(days=3)
        for hours in (1, 2, 3, 30):
            make_consultation(
                received_at=received,
                status="completed",
                first_response_at=received + timedelta(hours=hours),
            )
        text = page_text(triager_client.get(REPORT_URL))
        # Median of 1, 2, 3 and 30 hours: (2 + 3) / 2; nearest-rank 90th: the 4th value.
        assert "Median 2.5 hours" in text and "90th percentile 30.0 hours" in text
        assert "Breaches (1)" in text


class TestPaginator:
    def test_beyond_the_limit_the_page_says_about(self, triager_client, monkeypatch):
        monkeypatch.setattr(QueuePaginator, "EXACT_COUNT_UP_TO", 5)
        for _ in range(8):
            make_consultation(status="completed")
        text = page_text(triager_client.get(QUEUE_URL + "?queue=all"))
        if connection.vendor == "postgresql":
            count = int(re.search(r"about (\d+) consultation requests", text).group(1))
            assert count >= 8  # never fewer than the rows counted
        else:
            assert "8 consultation requests" in text and "about" not in text

    def test_within_the_limit_the_count_is_exact(self, triager_client, monkeypatch):
        monkeypatch.setattr(QueuePaginator, "EXACT_COUNT_UP_TO", 5)
        for _ in range(5):
            make_consultation()
        make_consultation(status="spam")
        text = page_text(triager_client.get(QUEUE_URL))
        assert "5 consultation requests" in text and "about" not in text


def plan(queryset):
    """EXPLAIN of ``queryset`` with sequential scans priced out, as at a million requests."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # Nor sorting a few rows, which a small table favours over the index in order.
        cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()


class TestIndexes:
    @pytest.fixture(autouse=True)
    def postgresql(self):
        require_postgresql(connection)

    def test_each_view_of_the_queue_reads_its_index_in_order(self, triager):
        requests = ConsultationRequest.objects.order_by("respond_by", "pk")
        now = timezone.now()
        assert "consultations_open_idx" in plan(requests.open()[:50])
        assert "consultations_open_idx" in plan(requests.overdue(now)[:50])
        assert "consultations_open_idx" in plan(requests.due_within(4, now)[:50])
        assert "consultations_unassigned_idx" in plan(requests.unassigned()[:50])
        assert "consultations_due_idx" in plan(requests[:50])
        assert "consultations_assignee_idx" in plan(requests.filter(assignee=triager)[:50])

    def test_the_search_uses_the_trigram_indexes(self):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            # Nor walking the queue's order index with a filter, which a small table favours.
            cursor.execute("SET LOCAL enable_indexscan = off")
        requests = ConsultationRequest.objects.order_by()
        assert "consultations_email_trgm" in requests.filter(email__icontains="ada@exam").explain()
        assert "consultations_name_trgm" in requests.filter(name__icontains="lovelace").explain()

    def test_the_reports_latest_breaches_read_the_arrival_index_backwards(self):
        with CaptureQueriesContext(connection) as captured:
            build_report(ConsultationRequest.objects.all(), now=timezone.now())
        (latest,) = [q["sql"] for q in captured.captured_queries if q["sql"].endswith("LIMIT 100")]
        with connection.cursor() as cursor:
            # As at a million requests: no scan of every row, no sort of them.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {latest}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Scan Backward using consultations_received_idx" in plan, plan

    def test_the_reports_percentiles_read_their_indexes_in_order(self):
        make_consultation(status="completed", first_response_at=timezone.now())
        with CaptureQueriesContext(connection) as captured:
            build_report(ConsultationRequest.objects.all(), now=timezone.now())
        ranked = [q["sql"] for q in captured.captured_queries if 'AS "delay"' in q["sql"]]
        plans = []
        with connection.cursor() as cursor:
            # As at a million requests: no sort of every answered request.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            for sql in ranked:
                cursor.execute(f"EXPLAIN {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        median, p90, recovery = plans
        assert "Index Only Scan using consultations_response_idx" in median, median
        assert "Index Only Scan Backward using consultations_response_idx" in p90, p90
        assert "Index Only Scan using consultations_recovery_idx" in recovery, recovery
