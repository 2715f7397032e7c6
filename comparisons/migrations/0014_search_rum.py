"""
Search ranks from an index (comparisons/search.py): the comparisons' vector is
indexed with RUM instead of GIN, and the second, smaller ranking vector goes.

A GIN index only says which rows match; ranking a common word's thousands of
matches then read every one of them (18 ms at 10,000 bench comparisons). A RUM
index keeps each word's positions, so ``search_vector <=> query`` hands back the
best matches first and a page of results reads 20 rows (3 ms). RUM is a
PostgreSQL extension packaged apart from the server (Debian: postgresql-15-rum);
on PostgreSQL only, like the indexes of 0011.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

INDEX = "comparison_search_rum"


class RumExtension(CreateExtension):
    """CREATE EXTENSION rum, with a message that says what to install when it is missing."""

    def __init__(self):
        super().__init__("rum")

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
                if cursor.fetchone() is None:
                    raise RuntimeError(
                        "PostgreSQL's rum extension is not installed on the database server. "
                        "Install it (Debian: apt-get install postgresql-<version>-rum, the "
                        "server's major version), then run migrate again."
                    )
        super().database_forwards(app_label, schema_editor, from_state, to_state)


def use_rum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS comparison_search_vector")
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON comparisons_comparison USING rum (search_vector rum_tsvector_ops)"
    )


def use_gin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        "CREATE INDEX comparison_search_vector ON comparisons_comparison USING gin (search_vector)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0013_content_translations"),
    ]

    operations = [
        RumExtension(),
        migrations.RunPython(use_rum, use_gin),
        migrations.RemoveField(model_name="comparison", name="rank_vector"),
    ]
