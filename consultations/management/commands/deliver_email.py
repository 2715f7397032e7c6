"""The outbox worker: sends queued emails, retrying failures with backoff."""

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

    def handle(self, *args, once=False, sleep=5.0, **options):
        while True:
            sent, failed = deliver_due()
            if sent or failed or once:
                self.stdout.write(f"Sent {sent}, will retry or gave up on {failed}.")
            if once:
                return
            time.sleep(sleep)
