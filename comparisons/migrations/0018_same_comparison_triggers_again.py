"""The same-comparison triggers of migration 0002, written again on SQLite.

On SQLite, migration 0013 rebuilt the factor and assessment tables to add
their translation columns, and a rebuilt table loses its triggers: from then
on nothing in an SQLite database refused a factor's winner or an assessment
from another comparison. PostgreSQL alters tables in place and kept them.
Any migration that rebuilds those tables on SQLite must do as this one does
(see 0010).
"""

import importlib

from django.db import migrations

triggers = importlib.import_module("comparisons.migrations.0002_same_comparison_triggers")


def write_triggers_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        # Whichever survived the rebuild is dropped first, so each is written once.
        triggers.drop_triggers(apps, schema_editor)
        triggers.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0017_verbose_names"),
    ]

    operations = [
        migrations.RunPython(write_triggers_on_sqlite, migrations.RunPython.noop),
    ]
