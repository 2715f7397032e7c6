"""A compared framework's version and "as of" date.

On SQLite, adding the version column rebuilds comparisons_participant, and
renaming the rebuilt table fails while the same-comparison triggers of
migration 0002 (on the factor and assessment tables) name it: they are
dropped first and written again after, on SQLite only.
"""

import importlib

from django.db import migrations, models

import compare_site.validators

triggers = importlib.import_module("comparisons.migrations.0002_same_comparison_triggers")


def drop_triggers_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        triggers.drop_triggers(apps, schema_editor)


def create_triggers_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        triggers.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0009_editors_read_reports"),
    ]

    operations = [
        migrations.RunPython(drop_triggers_on_sqlite, create_triggers_on_sqlite),
        migrations.AddField(
            model_name="participant",
            name="version",
            field=models.CharField(
                blank=True,
                help_text="If it matters, for example: 2.10",
                max_length=40,
                validators=[compare_site.validators.validate_no_control_characters],
                verbose_name="version",
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="version_as_of",
            field=models.DateField(
                blank=True,
                help_text="When last checked against it; shown as month and year.",
                null=True,
                verbose_name="as of",
            ),
        ),
        migrations.RunPython(create_triggers_on_sqlite, drop_triggers_on_sqlite),
    ]
