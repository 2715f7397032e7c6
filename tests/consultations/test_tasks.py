"""Scheduled work without cron: each job once per interval, however many schedulers and workers."""

import io
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from consultations import tasks
from consultations.models import (
    DueWarning,
    OutgoingEmail,
    PendingAddition,
    ScheduledRun,
    SpentFormToken,
    interval_start,
)
from tests.clock import at
from tests.factories import make_consultation, make_staff
from tests.support.missing import require_postgresql

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def frozen():
    with at(NOW) as traveller:
        yield traveller


@pytest.fixture
def due_soon_request(frozen):
    """A request received 21 hours ago, assigned to Olga: due within 4 hours."""
    owner = make_staff("olga")
    request = make_consultation(received_at=NOW - timedelta(hours=21))
    request.assign(to=owner, by=owner)
    return request


@pytest.fixture
def in_process_worker(monkeypatch):
    """Let db_worker run inside the test's transaction.

    It closes "old" connections between tasks, and inside a test's transaction
    (autocommit off) every connection looks old: on PostgreSQL that would close
    the test's own. It also installs its SIGTERM/SIGINT handlers; the test run
    gets its own back.
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def run_db_worker():
    """What `manage.py db_worker` does, until the queue is empty."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())


class TestIntervals:
    @pytest.mark.parametrize(
        ("moment", "every", "start"),
        [
            (NOW, timedelta(minutes=1), datetime(2026, 3, 4, 10, 17, tzinfo=UTC)),
            (
                datetime(2026, 3, 4, 10, 17, 59, 999999, tzinfo=UTC),
                timedelta(minutes=1),
                datetime(2026, 3, 4, 10, 17, tzinfo=UTC),
            ),
            (
                datetime(2026, 3, 4, 10, 18, tzinfo=UTC),
                timedelta(minutes=1),
                datetime(2026, 3, 4, 10, 18, tzinfo=UTC),
            ),
            (NOW, timedelta(days=1), datetime(2026, 3, 4, tzinfo=UTC)),
            (
                datetime(2026, 3, 4, 23, 59, 59, tzinfo=UTC),
                timedelta(days=1),
                datetime(2026, 3, 4, tzinfo=UTC),
            ),
        ],
    )
    def test_interval_start(self, moment, every, start):
        assert interval_start(moment, every) == start


class TestWarningsOncePerInterval:
    def test_a_second_run_in_the_same_minute_does_nothing_and_the_next_minute_runs(
        self, due_soon_request, frozen
    ):
        assert tasks.warn_due.call() == 1
        assert tasks.warn_due.call() is None  # another scheduler's wake-up, same minute
        assert ScheduledRun.objects.get().result == "1"
        frozen.shift(timedelta(seconds=30))  # 10:18:00, the next interval
        assert tasks.warn_due.call() == 0  # runs, and the warning is not repeated
        assert ScheduledRun.objects.count() == 2
        assert DueWarning.objects.count() == 1

    def test_two_schedulers_enqueue_one_minute_twice_and_the_warning_reaches_the_outbox(
        self, due_soon_request, in_process_worker
    ):
        # Two `crontask` processes (no Redis lock) both enqueue this minute's job.
        tasks.warn_due.enqueue()
        tasks.warn_due.enqueue()
        run_db_worker()
        assert ScheduledRun.objects.filter(job="warn_due").count() == 1
        results = sorted(
            str(row.return_value)
            for row in DBTaskResult.objects.filter(task_path__endswith="warn_due")
        )
        assert results == ["1", "None"]
        (warning,) = OutgoingEmail.objects.all()
        assert warning.to == due_soon_request.assignee.email
        assert due_soon_request.reference in warning.subject

        # The scheduled sweep sends it, through the same worker.
        tasks.deliver_outbox.enqueue()
        run_db_worker()
        assert [message.to for message in mail.outbox] == [[due_soon_request.assignee.email]]
        warning.refresh_from_db()
        assert warning.status == OutgoingEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_interval_at_once_get_one_run(frozen):
    # SQLite's in-memory test database is shared by the threads: no concurrent writers.
    require_postgresql(connection)
    barrier = threading.Barrier(4)
    claims = []

    def claim():
        try:
            barrier.wait()
            claims.append(ScheduledRun.objects.claim("warn_due", every=tasks.WARNING_INTERVAL))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 4
    assert len([claim for claim in claims if claim is not None]) == 1
    assert ScheduledRun.objects.count() == 1


class TestDailyRetention:
    def test_runs_once_per_utc_day_and_prunes_old_history(self, frozen):
        old = ScheduledRun.objects.create(
            job="warn_due", interval_start=NOW - timedelta(days=8), started_at=NOW
        )
        assert tasks.daily_retention.call() == 0
        assert not ScheduledRun.objects.filter(pk=old.pk).exists()
        frozen.move_to(datetime(2026, 3, 4, 23, 50, tzinfo=UTC))
        assert tasks.daily_retention.call() is None
        frozen.move_to(datetime(2026, 3, 5, 0, 0, tzinfo=UTC))
        assert tasks.daily_retention.call() == 0
        assert ScheduledRun.objects.filter(job="daily_retention").count() == 2

    def test_forgets_spent_form_tokens_and_lapsed_additions(self, frozen):
        request = make_consultation(email="ada@example.com")
        SpentFormToken.objects.create(nonce="old", used_at=NOW - timedelta(hours=4, seconds=1))
        SpentFormToken.objects.create(nonce="young", used_at=NOW - timedelta(hours=4))
        PendingAddition.objects.create(
            request=request, note="old", created_at=NOW - timedelta(days=7, seconds=1)
        )
        PendingAddition.objects.create(request=request, note="young", created_at=NOW)
        tasks.daily_retention.call()
        assert list(SpentFormToken.objects.values_list("nonce", flat=True)) == ["young"]
        assert list(PendingAddition.objects.values_list("note", flat=True)) == ["young"]


class TestTheSchedule:
    def test_the_scheduler_wakes_every_job(self):
        from crontask import scheduler

        triggers = {job.name: str(job.trigger) for job in scheduler.get_jobs()}
        assert "minute='*'" in triggers["deliver_outbox"]
        assert "minute='*'" in triggers["warn_due"]
        assert "minute='*/10'" in triggers["daily_retention"]

    def test_queueing_an_email_wakes_a_worker_after_the_commit(
        self, django_capture_on_commit_callbacks
    ):
        from consultations.outbox import queue_email

        request = make_consultation()
        with django_capture_on_commit_callbacks(execute=True):
            queue_email(to=["a@example.com"], template="confirmation", context={"request": request})
            assert not DBTaskResult.objects.exists()  # nothing before the commit
        (woken,) = DBTaskResult.objects.all()
        assert woken.task_path == "consultations.tasks.deliver_outbox"
