"""Claiming outbox rows one at a time with a lease: the email outbox
(consultations) and the HTTP cache purges (comparisons) share this one way.

A row is claimable when it is due and its lease is free (never taken, or run
out). The claim is its own short transaction, committed before the work is
done, so a worker that dies mid-work holds one lease only, and that lease
runs out for another worker to take. On PostgreSQL, SELECT ... FOR UPDATE
SKIP LOCKED keeps workers off each other's candidates. SQLite has no row
locks (and upgrading a read transaction to a write fails instead of waiting),
so there the SELECT and the UPDATE run in autocommit; the UPDATE repeats the
claimable condition, so when two workers pick the same row only one changes it.
"""

from contextlib import nullcontext
from datetime import timedelta

from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone


def lease_free():
    """Never leased, or its lease has run out; always read against the real clock."""
    return Q(leased_until__isnull=True) | Q(leased_until__lt=timezone.now())


def claim_next(claimable, *, token, seconds):
    """Lease the first row of ``claimable()`` (a fresh queryset each call, ordered by
    ``next_attempt_at``) to the worker holding ``token`` for ``seconds``; or None."""
    lease = timedelta(seconds=seconds)
    database = claimable().db
    skip_locked = connections[database].features.has_select_for_update_skip_locked
    while True:
        with transaction.atomic(using=database) if skip_locked else nullcontext():
            candidates = claimable().order_by("next_attempt_at", "pk")
            if skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            row = candidates.first()
            if row is None:
                return None
            row.leased_until = timezone.now() + lease
            row.lease_token = token
            claimed = (
                claimable()
                .filter(pk=row.pk)
                .update(leased_until=row.leased_until, lease_token=token)
            )
        if claimed:
            return row
        # Another worker claimed it between our SELECT and UPDATE (SQLite): next one.
