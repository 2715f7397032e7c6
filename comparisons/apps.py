from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "Comparison pages"

    def ready(self):
        from . import signals

        signals.connect()
