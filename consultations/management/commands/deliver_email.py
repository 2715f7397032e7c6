"""The outbox worker: sends queued emails, retrying failures with backoff."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from consultations.models import OutgoingEmail

BATCH = 20


def deliver_due(*, now=None):
    """One pass over the due messages; returns (sent, not sent).

    Each batch is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so parallel
    workers on PostgreSQL never pick the same message; the lock is held until
    the message is marked, which is what makes a message go out only once.
    (SQLite has no row locks: run a single worker there.)
    """
    now = now or timezone.now()
    sent = failed = 0
    while True:
        with transaction.atomic():
            batch = list(
                OutgoingEmail.objects.due(now)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "pk")[:BATCH]
            )
            for message in batch:
                if message.deliver(now):
                    sent += 1
                else:
                    failed += 1
        # A failed message is due again only later, so the pass always ends.
        if len(batch) < BATCH:
            return sent, failed


class Command(BaseCommand):
    help = "Send queued emails (confirmations, notifications, invitations, warnings)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Make one pass, then exit.")
        parser.add_argument(
            "--sleep", type=float, default=5.0, help="Seconds between passes (default 5)."
        )
        parser.add_argument(
            "--retry-now",
            action="store_true",
            help="First make every pending message due now, whatever its backoff "
            "(after the mail server is back).",
        )

    def handle(self, *args, once=False, sleep=5.0, retry_now=False, **options):
        if retry_now:
            made_due = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).update(
                next_attempt_at=timezone.now()
            )
            self.stdout.write(f"Made {made_due} pending message(s) due now.")
        if once:
            sent, failed = deliver_due()
            self.stdout.write(f"Sent {sent}, will retry or gave up on {failed}.")
            return
        # Stopped by SIGTERM (systemd, supervisord, a deploy) or Ctrl-C, the worker
        # finishes the pass it is in: killed between a send and its commit, it
        # would send that message again on the next pass.
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *args: stopping.append(True))
        while True:
            sent, failed = deliver_due()
            if sent or failed:
                self.stdout.write(f"Sent {sent}, will retry or gave up on {failed}.")
            if stopping:
                return
            time.sleep(sleep)
            if stopping:
                return
