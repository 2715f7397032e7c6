"""Warn about requests due soon (models.WARN_BEFORE_HOURS) or overdue: what the
worker's warn_due task runs every minute (consultations/tasks.py), here for a
run by hand."""

from django.core.management.base import BaseCommand

from consultations.models import WARN_BEFORE_HOURS
from consultations.services import warn_due_requests


class Command(BaseCommand):
    help = (
        "Queue an email to the assignee (or the Triage group) for each request due within "
        f"{WARN_BEFORE_HOURS} hours and each overdue one. Each warning goes out once, however "
        "often this runs."
    )

    def handle(self, *args, **options):
        queued = warn_due_requests()
        self.stdout.write(f"Queued {queued} warning(s).")
