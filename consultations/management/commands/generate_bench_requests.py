"""Generate the benchmark's consultation requests; running it again reuses what exists.

Run after comparisons' generate_bench_data: each request asks about one of the
benchmark's comparisons (or about a topic, in a database without them). On
PostgreSQL the rows are streamed in with COPY, so a million requests and
their two million windows take a minute or two; elsewhere they are bulk-created.
"""

import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from comparisons.management.commands.generate_bench_data import BENCH_PREFIX, BENCH_SEED, progress
from comparisons.models import Comparison
from consultations.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    ConsultationRequest,
    PreferredWindow,
    response_time,
)

BENCH_DOMAIN = "@bench.example"
COLUMNS = [
    "reference",
    "name",
    "email",
    "company",
    "comparison_id",
    "topic",
    "message",
    "received_at",
    "timezone",
    "respond_by",
    "first_response_at",
    "status",
    "assignee_id",
    "scheduled_start",
    "meeting_location",
]
BATCH = 50_000


def bench_reference(number):
    """A reference of the right shape that no other generated request has: "B" and
    the number in the reference alphabet."""
    digits = []
    for _ in range(REFERENCE_LENGTH - 1):
        number, digit = divmod(number, len(REFERENCE_ALPHABET))
        digits.append(REFERENCE_ALPHABET[digit])
    return "B" + "".join(reversed(digits))


class Command(BaseCommand):
    help = (
        "Create the benchmark's consultation requests (over the last two years, most of them "
        "closed), each about one of its comparisons. Existing requests are kept and reused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=BENCH_SEED)

    def handle(self, *args, requests, seed, **options):
        # Repeatable test data, not secrets.
        self.create_requests(requests, random.Random(seed))  # noqa: S311

    def create_requests(self, total, randomness):
        existing = ConsultationRequest.objects.filter(email__endswith=BENCH_DOMAIN).count()
        if existing >= total:
            progress("requests (reused)", total, total)
            return
        triage = Group.objects.get(name="Triage")
        staff = []
        for number in range(1, 6):
            user, _ = get_user_model().objects.get_or_create(
                username=f"bench-triager-{number}", defaults={"is_staff": True}
            )
            user.groups.add(triage)
            staff.append(user.pk)
        comparison_ids = list(
            Comparison.objects.filter(slug__startswith=BENCH_PREFIX).values_list("pk", flat=True)
        )
        now = timezone.now()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A batch's COPY takes longer than the site's statement_timeout allows a query.
                cursor.execute("SET statement_timeout = 0")
        for start in range(existing, total, BATCH):
            rows = [
                self.row(number, randomness, now, staff, comparison_ids)
                for number in range(start, min(start + BATCH, total))
            ]
            if connection.vendor == "postgresql":
                self.copy(rows)
            else:
                self.bulk_create(rows)
            progress("consultation requests", start + len(rows), total)
        if connection.vendor == "postgresql":
            # VACUUM marks the new rows visible to index-only scans (the queue's
            # counts); it cannot run inside a transaction (a test's), ANALYZE can.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(f"{command} {ConsultationRequest._meta.db_table}")
                cursor.execute(f"{command} {PreferredWindow._meta.db_table}")

    def row(self, number, randomness, now, staff, comparison_ids):
        Status = ConsultationRequest.Status
        span = 2 * 365 * 24 * 3600
        received = now - timezone.timedelta(seconds=randomness.randint(0, span))
        age_hours = (now - received).total_seconds() / 3600
        if age_hours < 48:
            status = randomness.choice([Status.NEW, Status.NEW, Status.CONTACTED])
        elif age_hours < 24 * 21:  # the last three weeks: some still in progress
            status = randomness.choices(
                [Status.COMPLETED, Status.DECLINED, Status.SPAM, Status.DUPLICATE,
                 Status.CONTACTED, Status.SCHEDULED],
                weights=[70, 10, 8, 4, 5, 3],
            )[0]  # fmt: skip
        else:  # older requests are closed
            status = randomness.choices(
                [Status.COMPLETED, Status.DECLINED, Status.SPAM, Status.DUPLICATE],
                weights=[78, 10, 8, 4],
            )[0]  # fmt: skip
        answered = status not in (Status.NEW, Status.SPAM, Status.DUPLICATE)
        # Most answers come within a day; about one in eight misses it.
        delay = randomness.expovariate(1 / 9) if answered else None
        comparison_id = randomness.choice(comparison_ids) if comparison_ids else None
        return {
            "reference": bench_reference(number),
            "name": f"Bench Visitor {number}",
            "email": f"visitor-{number}{BENCH_DOMAIN}",
            "company": "",
            "comparison_id": comparison_id,
            "topic": "" if comparison_id else "Choosing a framework",
            "message": "We are choosing between these frameworks for a new project.",
            "received_at": received,
            "timezone": randomness.choice(["Europe/Berlin", "America/New_York", "UTC"]),
            "respond_by": received + response_time(),
            "first_response_at": (
                min(received + timezone.timedelta(hours=delay), now) if answered else None
            ),
            "status": status,
            "assignee_id": None if status == Status.NEW else randomness.choice(staff),
            "scheduled_start": (
                (received + timezone.timedelta(days=3)).replace(minute=0, second=0)
                if status == Status.SCHEDULED
                else None
            ),
            "meeting_location": "",
        }

    def copy(self, rows):
        """COPY the requests in, then their two windows each, in one transaction."""
        table = ConsultationRequest._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[column] for column in COLUMNS])
            # The windows: two days after arrival on the hour, and the day after.
            cursor.execute(
                f"INSERT INTO {PreferredWindow._meta.db_table} (request_id, starts_at) "  # noqa: S608
                f"SELECT id, date_trunc('hour', received_at) + days * interval '1 day' "
                f"FROM {table}, (VALUES (2), (3)) AS offsets (days) "
                f"WHERE reference = ANY(%s)",
                [[row["reference"] for row in rows]],
            )

    def bulk_create(self, rows):
        requests = ConsultationRequest.objects.bulk_create(
            ConsultationRequest(**row) for row in rows
        )
        windows = []
        for request in requests:
            first = request.received_at + timezone.timedelta(days=2)
            first = first.replace(minute=0, second=0, microsecond=0)
            windows += [
                PreferredWindow(request=request, starts_at=first),
                PreferredWindow(request=request, starts_at=first + timezone.timedelta(days=1)),
            ]
        PreferredWindow.objects.bulk_create(windows)
