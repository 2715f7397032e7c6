"""The consultations app: booking a free consultation, triage, the outbox and the report."""

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = "Consultation requests"
