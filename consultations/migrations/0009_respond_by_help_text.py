"""respond_by's help text names the setting the deadline now comes from."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0008_contacted_and_duplicate_constraints"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consultationrequest",
            name="respond_by",
            field=models.DateTimeField(
                db_index=True,
                editable=False,
                help_text="CONSULTATION_REPLY_HOURS (for example 24 hours) after the request arrived; set once and never changed.",
                verbose_name="respond by",
            ),
        ),
    ]
