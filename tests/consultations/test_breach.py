"""A missed reply-by time: one apology to the visitor with a new, concrete time, the
assignee or Triage alerted, the status page told, and the report's recovery figures."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from consultations import services, tasks
from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    DueWarning,
    OutgoingEmail,
    StaffTimezone,
    after_working_hours,
)
from consultations.reports import build_report
from tests.clock import at
from tests.factories import make_consultation, make_staff
from tests.support.missing import require_postgresql
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

# Tuesday 1 December 2026, 14:00 UTC; the reply was due Wednesday 14:00 UTC (09:00 in
# New York). One minute later it is overdue: four working hours from 09:01 EST is 13:01,
# promised as 14:00 EST (19:00 UTC).
RECEIVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
LATE = RECEIVED + timedelta(hours=24, minutes=1)
PROMISED = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


@pytest.fixture
def late_request():
    with at(RECEIVED):
        return services.book_consultation(
            fields={
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "topic": "Choosing a framework",
                "message": "Which framework?",
                "timezone": "America/New_York",
            },
            windows=[],
            now=RECEIVED,
        ).request


def apologies(consultation):
    return OutgoingEmail.objects.filter(
        to=consultation.email, subject__contains="sorry, we are late"
    )


class TestTheApology:
    def test_the_task_run_twice_apologises_once(self, late_request):
        triage = make_staff("tess", group="Triage")
        with at(LATE) as clock:
            assert tasks.warn_due.call() == 1
            clock.shift(timedelta(minutes=1))  # the next minute's run
            assert tasks.warn_due.call() == 0
        assert apologies(late_request).count() == 1
        late_request.refresh_from_db()
        assert late_request.recovery_by == PROMISED
        assert late_request.respond_by == RECEIVED + timedelta(hours=24)  # unchanged

        (apology,) = apologies(late_request)
        assert "A person will reply by Wednesday 2 December 2026, 14:00 EST." in apology.body
        assert "We promised you a reply by Wednesday 2 December 2026, 09:00 EST" in apology.body
        assert f"[{late_request.reference}]" in apology.subject
        # In the request's thread, answering the confirmation.
        confirmation = late_request.emails.order_by("pk").first()
        assert apology.in_reply_to == confirmation.message_id

        # Nobody is assigned: the Triage group is alerted, with the new time.
        (alert,) = OutgoingEmail.objects.filter(to=triage.email, subject__startswith="Overdue")
        assert "apology promising a reply by" in alert.body
        assert "Wed 2 Dec 14:00 (visitor, America/New_York) · Wed 2 Dec 19:00 UTC" in alert.body

        event = late_request.events.get(kind=AuditEvent.Kind.BREACH)
        assert event.to_value == PROMISED.isoformat()

    def test_the_service_run_twice_at_the_same_instant_apologises_once(self, late_request):
        with at(LATE):
            assert services.warn_due_requests() == 1
            assert services.warn_due_requests() == 0
        assert apologies(late_request).count() == 1
        assert DueWarning.objects.filter(kind=DueWarning.Kind.OVERDUE).count() == 1

    def test_the_assignee_is_alerted_in_their_own_timezone(self, late_request):
        olga = make_staff("olga", group="Triage")
        StaffTimezone.objects.create(user=olga, timezone="Europe/Berlin")
        make_staff("tess", group="Triage")
        late_request.assign(to=olga, by=olga)
        with at(LATE):
            services.warn_due_requests()
        (alert,) = OutgoingEmail.objects.filter(subject__startswith="Overdue")
        assert alert.to == "olga@compare.example"
        assert (
            "Wed 2 Dec 14:00 (visitor, America/New_York) · Wed 2 Dec 20:00 (you, Europe/Berlin)"
            in alert.body
        )

    def test_a_request_answered_in_time_gets_no_apology(self, late_request):
        triager = make_staff("tess", group="Triage")
        with at(LATE - timedelta(minutes=2)):
            services.reply_to_visitor(consultation=late_request, text="Hello", by=triager)
        with at(LATE):
            services.warn_due_requests()
        assert apologies(late_request).count() == 0

    def test_at_the_deadline_itself_it_is_not_late_yet(self, late_request):
        with at(late_request.respond_by):
            services.warn_due_requests()
        assert apologies(late_request).count() == 0

    def test_the_status_page_says_so_and_counts_down_to_the_new_time(self, client, late_request):
        with at(LATE):
            services.warn_due_requests()
            response = client.get(
                reverse("consultations:status", args=[services.status_token(late_request)])
            )
        text = page_text(response)
        assert "We are late, and sorry." in text
        assert "A person will reply by Wednesday 2 December 2026, 14:00 EST" in text
        assert "we promised a reply by Wednesday 2 December 2026, 14:00 EST" in text
        assert 'data-countdown="2026-12-02T19:00:00Z"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_apologise_once(late_request):
    # SQLite's in-memory test database is shared by the threads: no concurrent writers.
    require_postgresql(connection)
    barrier = threading.Barrier(3)
    queued = []

    def run():
        try:
            barrier.wait()
            with at(LATE):
                queued.append(services.warn_due_requests())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(queued) == [0, 0, 1]
    assert apologies(late_request).count() == 1
    assert late_request.events.filter(kind=AuditEvent.Kind.BREACH).count() == 1


class TestWorkingHours:
    @pytest.mark.parametrize(
        ("moment", "promised"),
        [
            # Wednesday 09:01 New York: 13:01, rounded up to 14:00.
            (datetime(2026, 12, 2, 14, 1, tzinfo=UTC), datetime(2026, 12, 2, 19, 0, tzinfo=UTC)),
            # Friday 16:45: 1 h 15 min on Friday, the rest on Monday from 08:00: 10:45 -> 11:00.
            (datetime(2026, 12, 4, 21, 45, tzinfo=UTC), datetime(2026, 12, 7, 16, 0, tzinfo=UTC)),
            # Saturday: Monday 08:00 + 4 h = 12:00.
            (datetime(2026, 12, 5, 15, 0, tzinfo=UTC), datetime(2026, 12, 7, 17, 0, tzinfo=UTC)),
            # Tuesday 06:00, before opening: 12:00 the same day.
            (datetime(2026, 12, 1, 11, 0, tzinfo=UTC), datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
            # Exactly on the hour stays on the hour: 14:00 + 4 h = 18:00, closing time.
            (datetime(2026, 12, 1, 19, 0, tzinfo=UTC), datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),
            # Across the spring-forward night (14 March 2027): Friday 17:00 EST + 1 h,
            # then Monday 08:00 EDT + 3 h = 11:00 EDT (15:00 UTC).
            (datetime(2027, 3, 12, 22, 0, tzinfo=UTC), datetime(2027, 3, 15, 15, 0, tzinfo=UTC)),
        ],
    )
    def test_the_new_time(self, moment, promised):
        assert after_working_hours(moment, 4, "America/New_York") == promised


class TestTheReport:
    def test_breaches_are_counted_with_their_time_to_recover(self, late_request):
        triager = make_staff("tess", group="Triage")
        with at(LATE):
            services.warn_due_requests()
        with at(LATE + timedelta(hours=2, minutes=59)):
            services.reply_to_visitor(consultation=late_request, text="Sorry", by=triager)
        with at(RECEIVED):
            still_late = make_consultation(received_at=RECEIVED)
        report = build_report(ConsultationRequest.objects.all(), now=LATE + timedelta(hours=5))
        assert len(report.breaches) == 2
        assert report.recovered == 1
        assert report.apologies == 1
        by_reference = {row["reference"]: row["recovery_hours"] for row in report.breaches}
        assert by_reference == {late_request.reference: 3.0, still_late.reference: None}
        assert report.median_recovery_hours == 3.0
        rows = list(report.csv_rows())
        assert ["Breaches", 2] in rows and ["recovered (answered late)", 1] in rows
        assert ["median time to recover (hours)", 3.0] in rows

    def test_the_report_page_shows_them(self, client, late_request):
        triager = make_staff("tess", group="Triage")
        client.force_login(triager)
        with at(LATE):
            services.warn_due_requests()
        with at(LATE + timedelta(hours=1, minutes=59)):
            services.reply_to_visitor(consultation=late_request, text="Sorry", by=triager)
        with at(LATE + timedelta(hours=3)):
            text = page_text(client.get(reverse("consultations:report")))
        assert "Recovered (answered late) 1 of 1" in text
        assert "Median time to recover 2.0 hours after the reply-by time" in text
        assert "Apologies sent 1" in text
