"""Anonymise closed consultation requests older than the retention period: what the
worker's daily_retention task runs each day (consultations/tasks.py), here for a run by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from comparisons.reports import forget_readers_past_retention
from consultations.services import anonymise_expired, forget_lapsed_booking_records


class Command(BaseCommand):
    help = (
        "Remove the personal data (name, email, company, message, IP, windows, notes and "
        "email contents) of completed, declined, spam and duplicate requests received and "
        "last touched more than CONSULTATION_RETENTION_DAYS days ago. The report's figures "
        "do not change. Also forgets spent booking-form tokens older than a form may be, "
        "and additions nobody confirmed before their link lapsed. Readers' reply addresses "
        "on reports about comparisons, and emails tied to no request, go after the same period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention period in days (default: CONSULTATION_RETENTION_DAYS, "
            f"now {settings.CONSULTATION_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        count = anonymise_expired(days=days)
        self.stdout.write(f"Anonymised {count} closed request(s).")
        forgotten, lapsed = forget_lapsed_booking_records()
        if forgotten:
            self.stdout.write(f"Forgot {forgotten} spent booking-form token(s).")
        if lapsed:
            self.stdout.write(f"Deleted {lapsed} addition(s) nobody confirmed in time.")
        reports, emails = forget_readers_past_retention(days=days)
        if reports or emails:
            self.stdout.write(
                f"Erased the reader's address on {reports} report(s) and {emails} email(s)."
            )
