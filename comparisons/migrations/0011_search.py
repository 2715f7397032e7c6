"""
Search (comparisons/search.py): the stored search vectors and, on PostgreSQL
only, pg_trgm and the indexes search uses.

The indexes are made here rather than declared in Meta.indexes: SQLite has no
GIN, and Django rebuilds a SQLite table (re-creating every Meta index) whenever
a later migration alters it, so a GIN index there would break those
migrations. On PostgreSQL an ALTER TABLE keeps them. The vectors of existing
comparisons are filled at the end (`manage.py rebuild_search_index` does the
same at any time).
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import migrations

# (model, index); the names are what EXPLAIN shows (tests/comparisons/test_search.py).
INDEXES = [
    ("comparison", GinIndex(fields=["search_vector"], name="comparison_search_vector")),
    ("comparison", GinIndex(OpClass("title", name="gin_trgm_ops"), name="comparison_title_trgm")),
    ("framework", GinIndex(OpClass("name", name="gin_trgm_ops"), name="framework_name_trgm")),
    # The same expression as search._PostgreSQL.frameworks searches, or it goes unused.
    (
        "framework",
        GinIndex(SearchVector("name", "description", config="english"), name="framework_words"),
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model("comparisons", model_name), index)
    from comparisons.search import update_search_vectors

    update_search_vectors(apps.get_model("comparisons", "Comparison").objects.all(), apps=apps)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model("comparisons", model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0010_participant_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="comparison",
            name="search_vector",
            field=SearchVectorField(
                blank=True,
                editable=False,
                help_text="The page's words for search: title, frameworks, verdict, factors, "
                "assessments.",
                null=True,
                verbose_name="search vector",
            ),
        ),
        migrations.AddField(
            model_name="comparison",
            name="rank_vector",
            field=SearchVectorField(
                blank=True,
                editable=False,
                help_text="The words that rank a search result: title, frameworks, verdict "
                "and factor names, without the assessments.",
                null=True,
                verbose_name="ranking vector",
            ),
        ),
        # CREATE EXTENSION pg_trgm, on PostgreSQL only (the operation checks).
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
