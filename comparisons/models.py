"""
The content of a comparison page.

A Comparison sets two or more Frameworks side by side, in a fixed order,
through Participant rows. Each Factor holds one Assessment per participant
and a decision: a winning participant, a tie, or not decided yet. The total
score is derived from those decisions, never stored. Statistics carry their
own source; one missing any part of it never reaches a public page.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compare_site.validators import validate_no_control_characters

# For the fields shown through the rich_text filter (comparisons/templatetags).
FORMATTING_HELP = (
    "A blank line starts a new paragraph; [label](https://example.org) makes a link; the "
    "HTML tags strong, em, code, ul, ol and li may be used. Anything else is removed."
)


class Framework(models.Model):
    """A technology that comparisons set side by side, such as PyTorch."""

    name = models.CharField(
        "name",
        max_length=80,
        unique=True,
        help_text="For example: PyTorch",
        validators=[validate_no_control_characters],
    )
    slug = models.SlugField("slug", max_length=80, unique=True, help_text="For example: pytorch")
    description = models.CharField(
        "short description",
        max_length=300,
        blank=True,
        help_text="One sentence, for example: An open-source deep learning framework by Meta.",
        validators=[validate_no_control_characters],
    )
    website = models.URLField("website", blank=True, help_text="For example: https://pytorch.org")

    class Meta:
        ordering = ["name"]
        verbose_name = "framework"
        verbose_name_plural = "frameworks"

    def __str__(self):
        return self.name


class ComparisonQuerySet(models.QuerySet):
    def published(self, now=None):
        """Comparisons a visitor may see: published, with their publish time come."""
        now = now or timezone.now()
        return self.filter(status=Comparison.Status.PUBLISHED, published_at__lte=now)

    def with_page_data(self):
        """Everything a comparison page renders, in a fixed number of queries."""
        return self.prefetch_related(
            models.Prefetch(
                "participants", queryset=Participant.objects.select_related("framework")
            ),
            models.Prefetch(
                "factors",
                queryset=Factor.objects.prefetch_related(
                    models.Prefetch("assessments", queryset=Assessment.objects.order_by())
                ),
            ),
            models.Prefetch("statistics", queryset=Statistic.objects.complete()),
        )

    def with_listing_data(self):
        """What the home page shows for each comparison."""
        return self.prefetch_related(
            models.Prefetch(
                "participants", queryset=Participant.objects.select_related("framework")
            )
        )


class Comparison(models.Model):
    """A page setting two or more frameworks side by side."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(
        "title",
        max_length=200,
        help_text="For example: PyTorch vs TensorFlow: Which Deep Learning Framework in 2026",
        validators=[validate_no_control_characters],
    )
    slug = models.SlugField(
        "slug",
        max_length=200,
        unique=True,
        help_text="The page address, for example: pytorch-vs-tensorflow",
    )
    subtitle = models.CharField(
        "subtitle",
        max_length=300,
        blank=True,
        help_text="One sentence under the title, for example: Compare PyTorch and TensorFlow "
        "for AI development.",
        validators=[validate_no_control_characters],
    )
    category = models.CharField(
        "category",
        max_length=60,
        default="Technology",
        help_text="For example: Technology",
        validators=[validate_no_control_characters],
    )
    meta_description = models.CharField(
        "meta description",
        max_length=200,
        blank=True,
        help_text="What search engines show under the title; about 150 characters.",
        validators=[validate_no_control_characters],
    )
    quick_verdict = models.TextField(
        "quick verdict",
        blank=True,
        help_text="Two sentences a hurried reader can act on. " + FORMATTING_HELP,
        validators=[validate_no_control_characters],
    )
    recommendation = models.TextField(
        "our recommendation",
        blank=True,
        help_text=FORMATTING_HELP,
        validators=[validate_no_control_characters],
    )
    status = models.CharField(
        "status", max_length=20, choices=Status, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        "publish time",
        null=True,
        blank=True,
        help_text="A published comparison appears to visitors from this time on.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("last saved", auto_now=True)
    frameworks = models.ManyToManyField(
        Framework, through="Participant", related_name="comparisons", verbose_name="frameworks"
    )

    objects = ComparisonQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = "comparison"
        verbose_name_plural = "comparisons"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="%(app_label)s_%(class)s_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("comparisons:detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    @property
    def is_public(self):
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    def framework_names(self):
        return [participant.framework.name for participant in self.participants.all()]

    def scoreboard(self):
        """The total score, derived from each factor's decision."""
        participants = list(self.participants.all())
        factors = list(self.factors.all())
        wins = {participant.pk: 0 for participant in participants}
        ties = 0
        for factor in factors:
            if factor.is_tie:
                ties += 1
            elif factor.winner_id in wins:
                wins[factor.winner_id] += 1
        return Scoreboard(
            rows=[ScoreRow(participant, wins[participant.pk]) for participant in participants],
            ties=ties,
            total=len(factors),
        )


@dataclass(frozen=True)
class ScoreRow:
    participant: "Participant"
    wins: int

    @property
    def framework(self):
        return self.participant.framework


@dataclass(frozen=True)
class Scoreboard:
    rows: list
    ties: int
    total: int

    def __str__(self):
        scores = ", ".join(f"{row.framework.name} {row.wins}/{self.total}" for row in self.rows)
        ties = "1 tie" if self.ties == 1 else f"{self.ties} ties"
        return f"{scores}, {ties}"


class Participant(models.Model):
    """One framework's place in a comparison, with its "choose it when..." reasons."""

    comparison = models.ForeignKey(
        Comparison, on_delete=models.CASCADE, related_name="participants"
    )
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="participations"
    )
    position = models.PositiveSmallIntegerField(
        "position", default=1, help_text="Order on the page: 1 comes first."
    )
    is_recommended = models.BooleanField(
        "recommended",
        default=False,
        help_text="Mark the framework this comparison recommends, if any (at most one).",
    )
    choose_when = models.TextField(
        "choose it when...",
        blank=True,
        help_text="One situation per line, for example: Rapid prototyping",
        validators=[validate_no_control_characters],
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "compared framework"
        verbose_name_plural = "compared frameworks"
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "framework"],
                name="%(app_label)s_%(class)s_framework_once",
                violation_error_message="This framework is already part of the comparison.",
            ),
            models.UniqueConstraint(
                fields=["comparison"],
                condition=Q(is_recommended=True),
                name="%(app_label)s_%(class)s_one_recommended",
                violation_error_message="Only one framework can be recommended.",
            ),
        ]

    def __str__(self):
        return self.framework.name

    def choose_when_items(self):
        return [line.strip() for line in self.choose_when.splitlines() if line.strip()]


class Factor(models.Model):
    """One row of the comparison table, decided for one participant or as a tie."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="factors")
    position = models.PositiveSmallIntegerField("position", default=1)
    name = models.CharField(
        "factor",
        max_length=120,
        help_text="For example: Developer Experience",
        validators=[validate_no_control_characters],
    )
    # RESTRICT, not PROTECT: deleting the whole comparison deletes both sides.
    winner = models.ForeignKey(
        Participant,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="factors_won",
        verbose_name="winner",
    )
    is_tie = models.BooleanField("tie", default=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "factor"
        verbose_name_plural = "factors"
        constraints = [
            models.CheckConstraint(
                condition=Q(winner__isnull=True) | Q(is_tie=False),
                name="%(app_label)s_%(class)s_winner_or_tie",
                violation_error_message="A factor has a winner or is a tie, not both.",
            ),
            # A winner from another comparison is refused by a database
            # trigger (migration 0002): a CHECK cannot look at another table.
        ]

    def __str__(self):
        return self.name

    @property
    def is_decided(self):
        return self.is_tie or self.winner_id is not None

    def assessment_cells(self, participants):
        """Each participant's assessment of this factor, in the comparison's order."""
        texts = {
            assessment.participant_id: assessment.text for assessment in self.assessments.all()
        }
        return [(participant, texts.get(participant.pk, "")) for participant in participants]


class Assessment(models.Model):
    """How one framework fares on one factor."""

    factor = models.ForeignKey(Factor, on_delete=models.CASCADE, related_name="assessments")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assessments"
    )
    text = models.TextField(
        "assessment",
        help_text="For example: Pythonic, intuitive eager execution, easy debugging",
        validators=[validate_no_control_characters],
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = "assessment"
        verbose_name_plural = "assessments"
        constraints = [
            models.UniqueConstraint(
                fields=["factor", "participant"], name="%(app_label)s_%(class)s_once_per_factor"
            ),
            models.CheckConstraint(
                condition=~Q(text=""), name="%(app_label)s_%(class)s_text_not_empty"
            ),
        ]

    def __str__(self):
        return f"{self.participant} on {self.factor}"


class StatisticQuerySet(models.QuerySet):
    def complete(self):
        """Statistics with every part of their source: the only ones visitors see."""
        return (
            self.exclude(value="")
            .exclude(description="")
            .exclude(source_name="")
            .exclude(source_url="")
            .filter(year__isnull=False)
        )

    def incomplete(self):
        return self.exclude(pk__in=self.complete().values("pk"))


class Statistic(models.Model):
    """A key figure, shown only with its description, source, year and link."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="statistics")
    position = models.PositiveSmallIntegerField("position", default=1)
    value = models.CharField(
        "value",
        max_length=40,
        help_text="For example: 78%",
        validators=[validate_no_control_characters],
    )
    description = models.CharField(
        "description",
        max_length=300,
        blank=True,
        help_text="What the value measures, for example: share of new ML papers using PyTorch",
        validators=[validate_no_control_characters],
    )
    source_name = models.CharField(
        "source",
        max_length=200,
        blank=True,
        help_text="Who published it, for example: Papers with Code",
        validators=[validate_no_control_characters],
    )
    source_url = models.URLField(
        "source link",
        max_length=500,
        blank=True,
        help_text="A direct http(s) link to the page that gives the figure.",
    )
    year = models.PositiveSmallIntegerField(
        "year", null=True, blank=True, help_text="The year the figure refers to, for example: 2026"
    )

    objects = StatisticQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "statistic"
        verbose_name_plural = "statistics"
        constraints = [
            models.CheckConstraint(
                condition=~Q(value=""), name="%(app_label)s_%(class)s_value_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(source_url="")
                | Q(source_url__startswith="http://")
                | Q(source_url__startswith="https://"),
                name="%(app_label)s_%(class)s_link_is_http",
                violation_error_message="The source link must start with http:// or https://.",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1950, year__lte=2100),
                name="%(app_label)s_%(class)s_year_plausible",
                violation_error_message="Enter a year between 1950 and 2100.",
            ),
        ]

    def __str__(self):
        return f"{self.value} {self.description}".strip()

    def missing_parts(self):
        """Names of what this statistic still needs before visitors can see it."""
        needed = {
            "description": self.description,
            "source": self.source_name,
            "source link": self.source_url,
            "year": self.year,
        }
        return [name for name, value in needed.items() if not value]

    @property
    def is_complete(self):
        return bool(self.value) and not self.missing_parts()

    def clean(self):
        if self.source_url and not self.source_url.startswith(("http://", "https://")):
            raise ValidationError(
                {"source_url": "The source link must start with http:// or https://."},
                code="link_scheme",
            )
