"""Two invariants become constraints: a contacted request has its first response
recorded, and only a duplicate names what it duplicates."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consultations", "0007_bring_rows_in_line")]

    operations = [
        migrations.AddConstraint(
            model_name="consultationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "contacted"), _negated=True),
                    ("first_response_at__isnull", False),
                    _connector="OR",
                ),
                name="consultations_consultationrequest_contacted_has_first_response",
            ),
        ),
        migrations.AddConstraint(
            model_name="consultationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("duplicate_of__isnull", True), ("status", "duplicate"), _connector="OR"
                ),
                name="consultations_consultationrequest_duplicate_of_is_duplicate",
            ),
        ),
    ]
