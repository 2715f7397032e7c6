"""Generate the benchmark's comparisons; running it again reuses what exists.

The consultation requests the benchmark also needs come from the consultations
app's generate_bench_requests command, which runs after this one.
"""

import random
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from comparisons.caching import forget_content_version
from comparisons.demo import load_demo_content
from comparisons.models import Assessment, Comparison, Factor, Framework, Participant, Statistic
from comparisons.search import update_search_vectors

BENCH_PREFIX = "bench-"
# The default seed of both bench data commands, so that a run is repeatable.
BENCH_SEED = 2026
# The benchmark's named large page: 4 frameworks, 50 factors.
LARGE_PAGE_SLUG = "bench-00001"
FRAMEWORK_NAMES = [
    "PyTorch", "TensorFlow", "JAX", "Keras", "MXNet", "PaddlePaddle", "Flax",
    "Django", "Flask", "FastAPI", "Rails", "Laravel", "Spring", "Express",
    "PostgreSQL", "MySQL", "SQLite", "MongoDB", "Redis", "Cassandra",
    "React", "Vue", "Svelte", "Angular", "Solid", "Go", "Rust", "Zig",
]  # fmt: skip


def progress(label, done, total, stream=sys.stderr):
    """Redraw a one-line progress bar whenever another 1% is done."""
    if total and done < total and (done * 100 // total) == ((done - 1) * 100 // total):
        return
    width = 30
    filled = int(width * done / total) if total else width
    stream.write(f"\r{label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        stream.write("\n")
    stream.flush()


class Command(BaseCommand):
    help = (
        "Create the benchmark's comparisons: published comparisons of 2 to 4 frameworks with "
        "5 to 50 factors and 3 statistics each, over --frameworks frameworks (10,000 over "
        "2,000 is the large catalogue). Existing rows are kept and reused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--comparisons", type=int, default=1000)
        parser.add_argument(
            "--frameworks",
            type=int,
            default=len(FRAMEWORK_NAMES),
            help=f"How many frameworks the comparisons draw from (at least 4; the first "
            f"{len(FRAMEWORK_NAMES)} have real names).",
        )
        parser.add_argument("--seed", type=int, default=BENCH_SEED)

    def handle(self, *args, comparisons, frameworks, seed, **options):
        if frameworks < 4:
            raise CommandError("--frameworks must be at least 4: a comparison has up to four.")
        load_demo_content()
        randomness = random.Random(seed)  # noqa: S311 (repeatable test data, not secrets)
        frameworks = self.frameworks(frameworks)
        existing = Comparison.objects.filter(slug__startswith=BENCH_PREFIX).count()
        for number in range(existing + 1, comparisons + 1):
            self.create_comparison(number, frameworks, randomness)
            progress("comparisons", number, comparisons)
        if existing >= comparisons:
            progress("comparisons (reused)", comparisons, comparisons)
        # Each new comparison got its search vector when its transaction committed
        # (search.content_changed); rows from before search existed get theirs here,
        # in one UPDATE. `manage.py rebuild_search_index` recomputes them all.
        update_search_vectors(
            Comparison.objects.filter(slug__startswith=BENCH_PREFIX, search_vector__isnull=True)
        )
        forget_content_version()

    def frameworks(self, count):
        """``count`` frameworks: the real names first, then numbered ones, made once."""
        names = FRAMEWORK_NAMES[:count] + [
            f"Framework {number:04d}" for number in range(len(FRAMEWORK_NAMES) + 1, count + 1)
        ]
        slugs = {slugify(name): name for name in names}
        existing = Framework.objects.filter(slug__in=slugs).in_bulk(field_name="slug")
        Framework.objects.bulk_create(
            Framework(slug=slug, name=name, website="https://example.org")
            for slug, name in slugs.items()
            if slug not in existing
        )
        return list(Framework.objects.filter(slug__in=slugs).order_by("pk"))

    @transaction.atomic
    def create_comparison(self, number, frameworks, randomness):
        if number == 1:
            count, factor_count = 4, 50
        else:
            count, factor_count = randomness.randint(2, 4), randomness.randint(5, 50)
        chosen = randomness.sample(frameworks, count)
        names = " vs ".join(f.name for f in chosen)
        comparison = Comparison.objects.create(
            slug=f"{BENCH_PREFIX}{number:05d}",
            title=f"{names}: benchmark comparison {number}",
            subtitle=f"How {names} compare on {factor_count} factors.",
            category=randomness.choice(["Technology", "Databases", "Web", "Languages"]),
            meta_description=f"{names} compared factor by factor.",
            quick_verdict=f"{chosen[0].name} leads on most factors in this generated page.",
            recommendation=f"Start with {chosen[0].name} unless a factor below decides it.",
            status=Comparison.Status.PUBLISHED,
            published_at=timezone.now() - timezone.timedelta(minutes=number),
        )
        participants = Participant.objects.bulk_create(
            Participant(
                comparison=comparison,
                framework=framework,
                position=position,
                is_recommended=position == 1,
                choose_when="Teams that value its strengths\nProjects that already use it",
            )
            for position, framework in enumerate(chosen, start=1)
        )
        factors = Factor.objects.bulk_create(
            Factor(
                comparison=comparison,
                position=position,
                name=f"Factor {position}",
                winner=None if position % 7 == 0 else randomness.choice(participants),
                is_tie=position % 7 == 0,
            )
            for position in range(1, factor_count + 1)
        )
        Assessment.objects.bulk_create(
            Assessment(
                factor=factor,
                participant=participant,
                text=f"{participant.framework.name} on {factor.name}: solid, with trade-offs.",
            )
            for factor in factors
            for participant in participants
        )
        Statistic.objects.bulk_create(
            Statistic(
                comparison=comparison,
                position=position,
                value=f"{randomness.randint(5, 95)}%",
                description="of surveyed teams in this generated data set",
                source_name="Generated benchmark data",
                source_url="https://example.org/benchmark",
                year=2026,
            )
            for position in range(1, 4)
        )
