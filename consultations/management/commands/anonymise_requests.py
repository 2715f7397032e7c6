"""Anonymise closed consultation requests older than the retention period: what the
worker's daily_retention task runs each day (consultations/tasks.py), here for a run by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from consultations.models import PendingAddition, SpentFormToken
from consultations.services import anonymise_expired


class Command(BaseCommand):
    help = (
        "Remove the personal data (name, email, company, message, IP, windows, notes and "
        "email contents) of completed, declined, spam and duplicate requests received and "
        "last touched more than CONSULTATION_RETENTION_DAYS days ago. The report's figures "
        "do not change. Also forgets spent booking-form tokens older than a form may be, "
        "and additions nobody confirmed before their link lapsed."
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
        # A token older than CONSULTATION_FORM_MAX_AGE is refused anyway.
        forgotten, _ = SpentFormToken.objects.past_max_age().delete()
        if forgotten:
            self.stdout.write(f"Forgot {forgotten} spent booking-form token(s).")
        lapsed, _ = PendingAddition.objects.past_link_age().delete()
        if lapsed:
            self.stdout.write(f"Deleted {lapsed} addition(s) nobody confirmed in time.")
