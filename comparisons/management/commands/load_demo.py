"""Load the seed comparison and the demo consultation activity; safe to run any number of times."""

from django.core.management.base import BaseCommand

from comparisons.demo import load_demo_content
from consultations.demo import load_demo_consultations


class Command(BaseCommand):
    help = (
        "Load the demo comparison (PyTorch vs TensorFlow) and demo consultation activity "
        "(a consultant, a triager, saved replies, five weeks of requests). "
        "Running it twice changes nothing."
    )

    def handle(self, *args, **options):
        if load_demo_content():
            self.stdout.write(self.style.SUCCESS("Loaded the demo comparison."))
        else:
            self.stdout.write("The demo comparison is already there; left it as it is.")
        created = load_demo_consultations()
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Loaded {created} demo consultation requests, with staff.")
            )
        else:
            self.stdout.write("The demo consultation requests are already there; left them.")
