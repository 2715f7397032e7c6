"""
Background work through Django's tasks framework (``django.tasks``).

Three tasks. ``manage.py db_worker`` (django-tasks-db) runs them from the
database; ``manage.py crontask`` (django-crontask) enqueues them on schedule.

- ``deliver_outbox``: one pass over the outbox. Enqueued after every commit
  that queues an email, and every minute as a sweep for retries and for
  messages whose worker died (their lease has run out).
- ``warn_due``: the due-soon and overdue warnings, once per minute.
- ``daily_retention``: anonymise closed requests past the retention period and
  prune finished task results, once per UTC day.

The scheduler only wakes a job up; whether it runs is decided here. Without
Redis, django-crontask takes no lock, so every scheduler process enqueues
every job, and a scheduler that is down at a cron time skips it. So each
scheduled job first claims a ScheduledRun row for its interval (the database
refuses a second claim), and the daily job is woken every 10 minutes rather
than once a day: it runs on the first wake-up of each UTC day, whichever
scheduler and worker get there first.
"""

import logging
from datetime import timedelta

from crontask import cron
from django.tasks import task
from django.utils import timezone

from . import outbox, services
from .models import ScheduledRun

logger = logging.getLogger(__name__)

# How often each scheduled job runs: the length of the interval it claims.
WARNING_INTERVAL = timedelta(minutes=1)
RETENTION_INTERVAL = timedelta(days=1)
# Finished task results (the outbox and ScheduledRun rows are the record) and
# old ScheduledRun rows are kept this long.
TASK_HISTORY = timedelta(days=7)


@cron("* * * * *")
@task
def deliver_outbox():
    """Send what is due in the outbox; returns how many went out and how many not."""
    sent, not_sent = outbox.deliver_due()
    return {"sent": sent, "not_sent": not_sent}


def run_once_per_interval(job, *, every, run):
    """Run ``run()`` unless this interval's run of ``job`` is claimed already."""
    claimed = ScheduledRun.objects.claim(job, every=every)
    if claimed is None:
        logger.info("%s: this interval has run already.", job)
        return None
    result = run()
    claimed.finish(result)
    return result


@cron("* * * * *")
@task
def warn_due():
    """Queue the due-soon and overdue warnings; returns how many were queued."""
    return run_once_per_interval("warn_due", every=WARNING_INTERVAL, run=services.warn_due_requests)


def retention():
    from django_tasks_db.models import DBTaskResult

    from comparisons.reports import forget_readers_past_retention

    anonymised = services.anonymise_expired()
    services.forget_lapsed_booking_records()
    forget_readers_past_retention()
    before = timezone.now() - TASK_HISTORY
    DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    ScheduledRun.objects.filter(interval_start__lt=before).delete()
    return anonymised


@cron("*/10 * * * *")
@task
def daily_retention():
    """Anonymise closed requests past retention; returns how many (None: ran today)."""
    return run_once_per_interval("daily_retention", every=RETENTION_INTERVAL, run=retention)
