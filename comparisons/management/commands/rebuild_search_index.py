"""Recompute every comparison's stored search vectors (comparisons/search.py).

Saves keep the vectors current by themselves; this is for rows written without
them (a raw SQL import, a restored dump, a change to what search_vector_expression
covers). One UPDATE per 200 comparisons; on SQLite, which searches the rows directly, nothing to do.
"""

from django.core.management.base import BaseCommand
from django.db import connection

from comparisons.models import Comparison
from comparisons.search import update_search_vectors


class Command(BaseCommand):
    help = "Recompute the search vectors of every comparison (PostgreSQL only)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("SQLite searches the rows themselves: there is no index to rebuild.")
            return
        updated = update_search_vectors(Comparison.objects.all())
        self.stdout.write(f"Rebuilt the search vectors of {updated} comparisons.")
