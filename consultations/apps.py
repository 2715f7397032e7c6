"""The consultations app: booking a free consultation, triage, the outbox and the report."""

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = "Consultation requests"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from . import models, slots

        # Who works when (slots.staff_with_hours, cached): its hours, timezone,
        # account or groups changed.
        User = get_user_model()
        for model in (models.WorkingHours, models.StaffTimezone, User):
            post_save.connect(slots.forget_staff_hours, sender=model)
            post_delete.connect(slots.forget_staff_hours, sender=model)
        m2m_changed.connect(slots.forget_staff_hours, sender=User.groups.through)
