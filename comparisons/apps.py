"""The comparisons app: published technology comparisons, their editing and history."""

from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "Comparison pages"

    def ready(self):
        from . import signals

        signals.connect()
