"""Load the seed comparison; safe to run any number of times."""

from django.core.management.base import BaseCommand

from comparisons.demo import load_demo_content


class Command(BaseCommand):
    help = "Load the demo comparison (PyTorch vs TensorFlow). Running it twice changes nothing."

    def handle(self, *args, **options):
        if load_demo_content():
            self.stdout.write(self.style.SUCCESS("Loaded the demo comparison."))
        else:
            self.stdout.write("The demo comparison is already there; left it as it is.")
