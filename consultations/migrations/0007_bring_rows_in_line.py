"""Rows brought in line with the constraints of 0007: a reopened duplicate no
longer names what it duplicated, and a contacted request has its first response
(from its audit trail, else its arrival). Separate from 0007 because PostgreSQL
refuses to alter a table with row changes pending in the same transaction."""

from django.db import migrations
from django.db.models import F, Min, OuterRef, Q, Subquery


def bring_rows_in_line(apps, schema_editor):
    ConsultationRequest = apps.get_model("consultations", "ConsultationRequest")
    AuditEvent = apps.get_model("consultations", "AuditEvent")
    ConsultationRequest.objects.exclude(status="duplicate").exclude(
        duplicate_of__isnull=True
    ).update(duplicate_of=None)
    # The first contact or move to contacted in the audit trail; else the arrival.
    first_contact = (
        AuditEvent.objects.filter(request=OuterRef("pk"))
        .filter(Q(kind="contact") | Q(kind="status", to_value="contacted"))
        .values("request")
        .annotate(first=Min("at"))
        .values("first")
    )
    unanswered = ConsultationRequest.objects.filter(
        status="contacted", first_response_at__isnull=True
    )
    unanswered.update(first_response_at=Subquery(first_contact))
    unanswered.update(first_response_at=F("received_at"))


class Migration(migrations.Migration):
    dependencies = [("consultations", "0006_pending_addition_client_ip")]

    operations = [migrations.RunPython(bring_rows_in_line, migrations.RunPython.noop)]
