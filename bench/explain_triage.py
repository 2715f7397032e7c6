"""EXPLAIN ANALYZE of the triage queue's queries: its default page, each filter and the search.

    DATABASE_URL=postgres://... python bench/explain_triage.py

Renders each view of the admin changelist (as a superuser, in-process), and
explains every query it ran on the requests table: the page and its count.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compare_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from consultations.models import ConsultationRequest  # noqa: E402

TABLE = ConsultationRequest._meta.db_table


def views():
    """(title, query string) for the default page, each list_filter and the search."""
    assignee = ConsultationRequest.objects.exclude(assignee=None).values("assignee").first()
    reference = ConsultationRequest.objects.order_by("-pk").values("reference").first()
    return [
        ("default page (open requests)", ""),
        ("filter: unassigned", "queue=unassigned"),
        ("filter: due within 4 hours", "queue=due_soon"),
        ("filter: overdue", "queue=overdue"),
        ("filter: all requests", "queue=all"),
        ("filter: status completed", "status__exact=completed"),
        ("filter: one assignee, all", f"queue=all&assignee__id__exact={assignee['assignee']}"),
        ("search: an email, all requests", "queue=all&q=visitor-123456%40bench.example"),
        ("search: a reference", f"q={reference['reference']}"),
    ]


def main():
    user, _ = get_user_model().objects.get_or_create(
        username="bench-explainer", defaults={"is_staff": True, "is_superuser": True}
    )
    model_admin = admin.site.get_model_admin(ConsultationRequest)
    factory = RequestFactory()
    for title, query in views():
        request = factory.get(f"/admin/consultations/consultationrequest/?{query}")
        request.user = user
        with CaptureQueriesContext(connection) as captured:
            model_admin.changelist_view(request).render()
        print(f"\n=== {title}: ?{query} ({len(captured)} queries in all)")
        with connection.cursor() as cursor:
            for sql in (q["sql"] for q in captured.captured_queries):
                if f'FROM "{TABLE}"' not in sql:
                    continue
                print(f"\n{sql[:160]}{' ...' if len(sql) > 160 else ''}")
                if sql.startswith("EXPLAIN"):
                    print("    (the paginator's estimate: planned, never run)")
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}")
                print("\n".join(f"    {row[0]}" for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
