"""Generate the benchmark's consultation requests; running it again reuses what exists.

Run after comparisons' generate_bench_data: each request asks about one of the
benchmark's comparisons.
"""

import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from comparisons.management.commands.generate_bench_data import BENCH_PREFIX, BENCH_SEED, progress
from comparisons.models import Comparison
from consultations.models import ConsultationRequest, PreferredWindow, response_time


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
        Status = ConsultationRequest.Status
        existing = ConsultationRequest.objects.filter(email__endswith="@bench.example").count()
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
            staff.append(user)
        comparison_ids = list(
            Comparison.objects.filter(slug__startswith=BENCH_PREFIX).values_list("pk", flat=True)
        )
        now = timezone.now()
        span = 2 * 365 * 24 * 3600
        batch = 2000
        for start in range(existing, total, batch):
            requests, windows = [], []
            for number in range(start, min(start + batch, total)):
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
                request = ConsultationRequest(
                    name=f"Bench Visitor {number}",
                    email=f"visitor-{number}@bench.example",
                    comparison_id=randomness.choice(comparison_ids),
                    message="We are choosing between these frameworks for a new project.",
                    timezone=randomness.choice(["Europe/Berlin", "America/New_York", "UTC"]),
                    received_at=received,
                    respond_by=received + response_time(),
                    first_response_at=(
                        min(received + timezone.timedelta(hours=delay), now) if answered else None
                    ),
                    status=status,
                    assignee=None if status == Status.NEW else randomness.choice(staff),
                    scheduled_start=(
                        (received + timezone.timedelta(days=3)).replace(minute=0, second=0)
                        if status == Status.SCHEDULED
                        else None
                    ),
                )
                requests.append(request)
            ConsultationRequest.objects.bulk_create(requests)
            for request in requests:
                first = request.received_at + timezone.timedelta(days=2)
                first = first.replace(minute=0, second=0, microsecond=0)
                windows += [
                    PreferredWindow(request=request, starts_at=first),
                    PreferredWindow(request=request, starts_at=first + timezone.timedelta(days=1)),
                ]
            PreferredWindow.objects.bulk_create(windows)
            progress("consultation requests", min(start + batch, total), total)
