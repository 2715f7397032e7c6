"""What one booking costs the database: at most 10 queries, in one transaction.

The queries are counted over a real connection, outside the test's own
transaction (``transaction=True``), so that BEGIN and COMMIT are the booking's.
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comparisons.models import Comparison
from consultations import capacity, services, slots
from consultations.models import (
    CONSULTANTS_GROUP,
    ConsultationRequest,
    OutgoingEmail,
    PreferredWindow,
)
from tests.consultations.helpers import booking_data
from tests.factories import make_comparison, make_staff
from tests.support.figures import record
from tests.support.missing import require_postgresql

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock]

BOOK_URL = reverse("consultations:book")
# Issue 16's budget. Free slots (issue 15) ask whether any consultant publishes
# hours: the answer is cached, so a booking does not pay for it.
MAX_QUERIES = 10
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
WRITES = ("INSERT", "UPDATE", "DELETE")
WAKE_UP_TABLE = "django_tasks_database_dbtaskresult"


def book(client, **fields):
    """POST a booking; the SQL statements it ran, in order. The reply estimate the
    form shows is worked out once a minute for every visitor (capacity.py), and who
    publishes hours is kept until they change (slots.staff_with_hours), not read
    per booking: both are ready, as they are on a site taking bookings."""
    capacity.current_estimate()
    slots.staff_with_hours(CONSULTANTS_GROUP)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(BOOK_URL, booking_data(**fields))
    assert response.status_code == 302, response.status_code
    return [query["sql"] for query in captured.captured_queries]


def describe(statements):
    """(queries, commits, writes outside the transaction) for a booking's statements."""
    queries = [s for s in statements if not s.startswith(CONTROL)]
    commits = statements.count("COMMIT")
    inside = False
    outside = []
    for statement in statements:
        # SQLite's is "BEGIN IMMEDIATE" (settings: its transaction_mode).
        if statement.startswith("BEGIN"):
            inside = True
        elif statement in ("COMMIT", "ROLLBACK"):
            inside = False
        elif statement.startswith(WRITES) and not inside:
            outside.append(statement)
    return queries, commits, outside


@pytest.fixture
def comparison():
    # A triager is told of each booking: the staff email's recipients are read. The
    # group is made here: a transactional test's database is emptied, migrations' rows too.
    Group.objects.get_or_create(name="Triage")
    make_staff("tess", group="Triage")
    return make_comparison(title="PyTorch vs TensorFlow", slug="pytorch-vs-tensorflow")


class TestOneBooking:
    def test_a_first_booking_is_at_most_10_queries_in_one_transaction(self, comparison):
        statements = book(Client(), comparison="pytorch-vs-tensorflow", topic="")
        queries, commits, outside = describe(statements)
        record("booking queries", f"first booking: {len(queries)} queries, {commits} commit")
        assert len(queries) <= MAX_QUERIES, "\n".join(queries)
        assert commits == 1
        # Each savepoint is two more round trips: the one left is book_consultation's
        # own, nested in the view's transaction (the spent token and the new session
        # take none).
        assert sum(s.startswith("SAVEPOINT") for s in statements) == 1, statements
        # The one write after the commit wakes the email worker (tasks.deliver_outbox);
        # the request, its windows, its emails, the spent token and the session are
        # all written inside the transaction.
        assert len(outside) == 1 and WAKE_UP_TABLE in outside[0], outside
        assert ConsultationRequest.objects.get().comparison == comparison
        assert PreferredWindow.objects.count() == 2
        assert OutgoingEmail.objects.count() == 2
        assert Session.objects.count() == 1

    def test_a_returning_visitors_booking_costs_the_same_plus_their_old_session(self, comparison):
        """Their session is read, and deleted as the key changes: two more queries."""
        client = Client()
        book(client, email="ada@example.com", comparison="pytorch-vs-tensorflow", topic="")
        statements = book(
            client, email="grace@example.com", comparison="pytorch-vs-tensorflow", topic=""
        )
        queries, commits, outside = describe(statements)
        record("booking queries (returning)", f"returning visitor: {len(queries)} queries")
        assert len(queries) <= MAX_QUERIES + 2, "\n".join(queries)
        assert commits == 1
        assert len(outside) == 1
        assert Session.objects.count() == 1  # the old session row is gone

    def test_a_form_sent_twice_saves_nothing_more_and_commits_nothing(self, comparison):
        client = Client()
        data = booking_data(comparison="pytorch-vs-tensorflow", topic="")
        assert client.post(BOOK_URL, data).status_code == 302
        with CaptureQueriesContext(connection) as captured:
            again = client.post(BOOK_URL, {**data, "email": "grace@example.com"})
        assert again.status_code == 400
        statements = [query["sql"] for query in captured.captured_queries]
        assert not any(s.startswith(WRITES) for s in statements), statements
        assert ConsultationRequest.objects.count() == 1


def explained(run, *settings):
    """EXPLAIN of the one query ``run()`` makes, as run, with the planner ``settings``
    off (SET enable_... = off): what a million rows' statistics would choose."""
    with CaptureQueriesContext(connection) as captured:
        run()
    (query,) = [q["sql"] for q in captured.captured_queries]
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET {setting} = off")
        try:
            cursor.execute(f"EXPLAIN {query}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            for setting in settings:
                cursor.execute(f"RESET {setting}")


class TestLookUpsReadAnIndex:
    """The booking's look-ups by typed text read a B-tree index, so they stay cheap as
    the tables grow: at 100,000 requests the open-request check took 3 ms through
    the trigram index, and the title look-up read every published comparison."""

    @pytest.fixture(autouse=True)
    def postgresql(self):
        require_postgresql(connection)

    def test_the_open_request_check_reads_the_address_index(self):
        # Bitmap scans off leaves out the trigram index, which answers equality too.
        plan = explained(
            lambda: services.open_request_for("Ada@Example.com", timezone.now()),
            "enable_seqscan",
            "enable_bitmapscan",
        )
        assert "consultations_email_upper_idx" in plan, plan

    def test_a_comparison_named_by_its_title_reads_the_title_index(self, comparison):
        # A catalogue large enough that reading every published row is the dear plan.
        Comparison.objects.bulk_create(
            Comparison(
                title_en=f"Framework {number} vs another",
                slug=f"other-{number}",
                status=Comparison.Status.PUBLISHED,
                published_at=timezone.now() - timezone.timedelta(hours=1),
            )
            for number in range(2000)
        )
        with connection.cursor() as cursor:
            # Statistics: every comparison is published, so the status index narrows nothing.
            cursor.execute("ANALYZE comparisons_comparison")
        plan = explained(
            lambda: Comparison.objects.published().titled("pytorch VS tensorflow").first(),
            "enable_seqscan",
            # Nor walking the status index, which a table of one favours.
            "enable_indexscan",
        )
        assert "comparisons_title_en_upper_idx" in plan, plan
