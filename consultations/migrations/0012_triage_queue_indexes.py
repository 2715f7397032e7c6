"""
The triage queue's indexes at a million requests: partial indexes in the
queue's order for its views (Meta.indexes), and on PostgreSQL only, trigram
indexes for the admin's search. The admin searches with icontains, which
PostgreSQL runs as UPPER(column::text) LIKE UPPER('%term%'): the indexes are on
that same expression, or they go unused. They are made here rather than in
Meta.indexes for the reason comparisons/migrations/0011_search.py gives
(SQLite has no GIN, and rebuilds its tables with every Meta index).
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations, models
from django.db.models.functions import Upper

# The admin's search_fields (consultations/admin.py); EXPLAIN shows these names.
SEARCH_INDEXES = [
    GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"consultations_{field}_trgm")
    for field in ["reference", "name", "email", "company"]
]


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("consultations", "ConsultationRequest")
    for index in SEARCH_INDEXES:
        schema_editor.add_index(model, index)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("consultations", "ConsultationRequest")
    for index in SEARCH_INDEXES:
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):

    dependencies = [
        ('comparisons', '0011_search'),
        ('consultations', '0011_slots_and_hours'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='consultationrequest',
            name='consultations_assignee_idx',
        ),
        migrations.AlterField(
            model_name='consultationrequest',
            name='respond_by',
            field=models.DateTimeField(editable=False, help_text='CONSULTATION_REPLY_HOURS (for example 24 hours) after the request arrived; set once and never changed.', verbose_name='respond by'),
        ),
        migrations.AddIndex(
            model_name='consultationrequest',
            index=models.Index(condition=models.Q(('status__in', ('new', 'contacted', 'scheduled'))), fields=['respond_by', 'id'], name='consultations_open_idx'),
        ),
        migrations.AddIndex(
            model_name='consultationrequest',
            index=models.Index(condition=models.Q(('assignee__isnull', True)), fields=['respond_by', 'id'], name='consultations_unassigned_idx'),
        ),
        migrations.AddIndex(
            model_name='consultationrequest',
            index=models.Index(fields=['assignee', 'respond_by'], name='consultations_assignee_idx'),
        ),
        migrations.AddIndex(
            model_name='consultationrequest',
            index=models.Index(fields=['respond_by', 'id'], name='consultations_due_idx'),
        ),
        # pg_trgm is created by comparisons' 0011_search.
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
