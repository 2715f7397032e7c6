"""The outbox sender as a command: a pass now (--once), or a loop of passes.

In production the task worker sends the outbox (consultations/tasks.py:
deliver_outbox); this command sends the same way and is there for passes by
hand, such as ``--once --retry-now`` after a mail outage.
"""

import signal
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from consultations.models import OutgoingEmail
from consultations.outbox import deliver_due


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
        # first finishes the message it is sending and saves its result: stopped
        # between a send and that commit, it would send the message again later.
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *args: stopping.append(True))
        while not stopping:
            sent, failed = deliver_due(should_stop=lambda: bool(stopping))
            if sent or failed:
                self.stdout.write(f"Sent {sent}, will retry or gave up on {failed}.")
            deadline = time.monotonic() + sleep
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, sleep))
