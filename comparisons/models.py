"""
The content of a comparison page.

A Comparison sets two or more Frameworks side by side, in a fixed order,
through Participant rows. Each Factor holds one Assessment per participant
and a decision: a winning participant, a tie, or not decided yet. The total
score is derived from those decisions, never stored. Statistics carry their
own source; one missing any part of it never reaches a public page.

Editorial state: a comparison is a draft or published; a published one with a
future publish time is "scheduled", and the public queryset alone decides when
it appears. Its dates are honest: content_updated_at moves only when the text a
visitor reads changes (a fingerprint of that text, not every save), and a
review is recorded by whom and when. Every admin save is a django-reversion
revision that follows the child rows, so a whole page can be reverted.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import reversion
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest, Upper
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from compare_site import leases
from compare_site.languages import language_field
from compare_site.validators import validate_http_url, validate_no_control_characters

from .weighing import factors_won

# For the fields shown through the rich_text filter (comparisons/templatetags), which
# says what Markdown may do there and why.
FORMATTING_HELP = _(
    "Markdown: **bold**, *italic*, [label](https://example.org), lists starting with - or 1., "
    "`code`; a blank line starts a paragraph. No headings or images."
)

# A comparison not reviewed for this long needs a review.
REVIEW_INTERVAL = timedelta(days=180)
# A statistic whose year is more than this many years before the current one is stale:
# in 2026, figures from 2024 are current and figures from 2023 are stale.
STATISTIC_MAX_AGE_YEARS = 2
# How a compared framework's "as of" date reads beside its name ("as of March 2026").
VERSION_AS_OF_FORMAT = "F Y"
# What a statistic needs besides its value before visitors see it (field: the
# name editors read). complete(), incomplete() and missing_parts() all use it.
SOURCE_PARTS = {
    "description": _("description"),
    "source_name": _("source"),
    "source_url": _("source link"),
    "year": _("year"),
}


# How many related comparisons a comparison page lists (ComparisonQuerySet.related_to).
RELATED_COUNT = 6
# How many suggestions a search-as-you-type field is offered at a time.
SUGGESTION_COUNT = 10


def translation_sources_field():
    """Per language, a hash of the English text each field was translated from
    (comparisons/translation.py): what tells an outdated translation."""
    return models.JSONField(
        _("translated from"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("For each language, the English text each translation was made from (hashed)."),
    )


# The column of the English source of a translated field (comparisons/translation.py
# registers the fields; django-modeltranslation adds a column per language). Rules that
# hold in every language (which category a page is in, whether a statistic is sourced)
# read the English column, never the active language's.
def source(field):
    return f"{field}_{settings.MODELTRANSLATION_DEFAULT_LANGUAGE}"


def default_category():
    """ "Technology" in English; a translation of it starts empty, like every other, so
    that an untranslated category shows as such (django-modeltranslation asks each
    language's column for its default with that language active)."""
    language = translation.get_language()
    if language is None or language == settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
        return "Technology"
    return ""


def category_slug(name):
    """The address of a category's hub: "Machine learning" -> "machine-learning".

    Categories are free text on Comparison.category, so the slug is derived, never
    stored; two spellings with one slug ("Web Dev", "web dev") share one hub.
    """
    return slugify(name, allow_unicode=True) or "other"


def last_change():
    """When a published page last changed, in SQL: the twin of Comparison.modified_at."""
    return Greatest("published_at", Coalesce("content_updated_at", "published_at"))


def stale_statistic_year(now=None):
    """Statistics from before this year are stale (see STATISTIC_MAX_AGE_YEARS).

    The one place the rule is computed: Statistic.is_stale() in Python and
    StatisticQuerySet.stale() in SQL both compare a year with it.
    """
    now = now or timezone.now()
    return now.year - STATISTIC_MAX_AGE_YEARS


def next_stale_statistic_change(now=None):
    """When stale_statistic_year() next moves: the start of the next year.

    Staleness changes then with no save at all, so whatever keeps a page (the
    page cache) must not keep it past this instant.
    """
    now = now or timezone.now()
    return now.replace(year=now.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


class FrameworkQuerySet(models.QuerySet):
    def in_published_comparisons(self, now=None):
        """Frameworks a visitor can meet: those in at least one published comparison."""
        published = Comparison.objects.published(now).values("pk")
        return self.filter(
            pk__in=Participant.objects.filter(comparison__in=published).values("framework")
        )

    def named(self, names):
        """Frameworks whose name or slug is one of ``names``, ignoring case."""
        condition = Q(pk__in=[])
        for name in names:
            condition |= Q(name__iexact=name) | Q(slug__iexact=name)
        return self.filter(condition)

    def suggestions(self, text):
        """Up to SUGGESTION_COUNT whose name contains ``text``, names starting with it first."""
        return (
            self.filter(name__icontains=text)
            .alias(starts=Case(When(name__istartswith=text, then=Value(0)), default=Value(1)))
            .order_by("starts", "name")[:SUGGESTION_COUNT]
        )


class Framework(models.Model):
    """A technology that comparisons set side by side, such as PyTorch."""

    name = models.CharField(
        _("name"),
        max_length=80,
        unique=True,
        help_text=_("For example: PyTorch"),
        validators=[validate_no_control_characters],
    )
    slug = models.SlugField(
        _("slug"), max_length=80, unique=True, help_text=_("For example: pytorch")
    )
    description = models.CharField(
        _("short description"),
        max_length=300,
        blank=True,
        help_text=_("One sentence, for example: An open-source deep learning framework by Meta."),
        validators=[validate_no_control_characters],
    )
    website = models.URLField(
        _("website"), blank=True, help_text=_("For example: https://pytorch.org")
    )
    translation_sources = translation_sources_field()

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("comparisons:framework", kwargs={"slug": self.slug})


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

    def scheduled(self, now=None):
        """Published comparisons whose publish time has not come yet."""
        now = now or timezone.now()
        return self.filter(status=Comparison.Status.PUBLISHED, published_at__gt=now)

    def review_overdue(self, now=None):
        """Not reviewed for REVIEW_INTERVAL (counted from publication if never reviewed)."""
        now = now or timezone.now()
        return self.alias(
            reviewed_or_published=Coalesce("last_reviewed_at", "published_at", "created_at")
        ).filter(reviewed_or_published__lte=now - REVIEW_INTERVAL)

    def with_stale_statistics(self, now=None):
        """Comparisons holding a stale statistic (StatisticQuerySet.stale)."""
        return self.filter(pk__in=Statistic.objects.stale(now).values("comparison"))

    def review_requested(self):
        """An accepted reader report asked for a review the page has not had since:
        the SQL twin of Comparison.review_requested."""
        return self.filter(review_requested_at__isnull=False).filter(
            Q(last_reviewed_at__isnull=True) | Q(review_requested_at__gt=F("last_reviewed_at"))
        )

    def needs_review(self, now=None):
        """Review overdue, holding a stale statistic, or asked for by a reader report."""
        return self.filter(
            Q(pk__in=self.review_overdue(now).values("pk"))
            | Q(pk__in=self.with_stale_statistics(now).values("pk"))
            | Q(pk__in=self.review_requested().values("pk"))
        )

    def with_listing_data(self):
        """What the home page shows for each comparison."""
        return self.prefetch_related(
            models.Prefetch(
                "participants", queryset=Participant.objects.select_related("framework")
            )
        )

    def newest_change_first(self):
        """Most recently changed first (see last_change), the newest id breaking ties."""
        return self.alias(changed_at=last_change()).order_by("-changed_at", "-pk")

    def category_names(self, slug):
        """The category names whose hub slug is ``slug`` (see category_slug).

        Categories are free text, so the names are read, not the comparisons: one
        query over the distinct names, however many comparisons share them.
        """
        return [name for name in self.categories() if category_slug(name) == slug]

    def categories(self):
        """The distinct category names, sorted."""
        return sorted(set(self.order_by().values_list(source("category"), flat=True).distinct()))

    def related_to(self, comparison):
        """Up to RELATED_COUNT others, sharing the most frameworks, then the category,
        then the most recently changed: one query whatever the catalogue's size.

        Only comparisons sharing a framework or the category qualify: a page about
        databases does not offer the newest page on web frameworks as "related".
        """
        ids = [participant.framework_id for participant in comparison.participants.all()]
        sharing = Participant.objects.filter(framework_id__in=ids).values("comparison")
        return (
            self.exclude(pk=comparison.pk)
            .filter(Q(pk__in=sharing) | Q(**{source("category"): comparison.category_en}))
            .annotate(
                shared=Count("participants", filter=Q(participants__framework_id__in=ids)),
                same_category=Case(
                    When(Q(**{source("category"): comparison.category_en}), then=Value(1)),
                    default=Value(0),
                ),
                changed_at=last_change(),
            )
            .order_by("-shared", "-same_category", "-changed_at", "-pk")[:RELATED_COUNT]
        )

    def of_exactly(self, frameworks):
        """Comparisons of exactly these frameworks, in any order, newest change first."""
        ids = {framework.pk for framework in frameworks}
        return (
            self.annotate(
                compared=Count("participants", distinct=True),
                matched=Count(
                    "participants", filter=Q(participants__framework_id__in=ids), distinct=True
                ),
            )
            .filter(compared=len(ids), matched=len(ids))
            .newest_change_first()
        )

    def titled(self, text):
        """The comparison a visitor named by its slug or its exact title (any case);
        the most recently changed one if several share the title."""
        from .translation import in_any_language

        return self.filter(
            Q(slug=text) | in_any_language("title__iexact", text)
        ).newest_change_first()

    def suggestions(self, text):
        """Up to SUGGESTION_COUNT whose title (in any language) contains ``text``, titles
        starting with it first."""
        from .translation import in_any_language

        return (
            self.filter(in_any_language("title__icontains", text))
            .alias(starts=Case(When(title__istartswith=text, then=Value(0)), default=Value(1)))
            .order_by("starts", "title", "pk")[:SUGGESTION_COUNT]
        )


class ComparisonStatus(models.TextChoices):
    """Comparison.Status; at module level so that Comparison.Meta can build its constraint."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


# What a comparison is for visitors right now (Comparison.state()), in words.
STATE_LABELS = {"draft": _("Draft"), "scheduled": _("Scheduled"), "published": _("Published")}


# The fingerprint stays out of revisions: a restored version then has none, so
# restoring always counts as a content change. The search vectors are derived
# from the rows themselves (comparisons/search.py), never restored.
@reversion.register(
    follow=["participants", "factors", "statistics"],
    exclude=["content_fingerprint", "search_vector"],
)
class Comparison(models.Model):
    """A page setting two or more frameworks side by side."""

    Status = ComparisonStatus

    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("For example: PyTorch vs TensorFlow: Which Deep Learning Framework in 2026"),
        validators=[validate_no_control_characters],
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        help_text=_("The page address, for example: pytorch-vs-tensorflow"),
    )
    subtitle = models.CharField(
        _("subtitle"),
        max_length=300,
        blank=True,
        help_text=_(
            "One sentence under the title, for example: Compare PyTorch and TensorFlow "
            "for AI development."
        ),
        validators=[validate_no_control_characters],
    )
    category = models.CharField(
        _("category"),
        max_length=60,
        default=default_category,
        help_text=_("For example: Technology"),
        validators=[validate_no_control_characters],
    )
    meta_description = models.CharField(
        _("meta description"),
        max_length=200,
        blank=True,
        help_text=_("What search engines show under the title; about 150 characters."),
        validators=[validate_no_control_characters],
    )
    quick_verdict = models.TextField(
        _("quick verdict"),
        blank=True,
        help_text=format_lazy(
            "{} {}", _("Two sentences a hurried reader can act on."), FORMATTING_HELP
        ),
        validators=[validate_no_control_characters],
    )
    recommendation = models.TextField(
        _("our recommendation"),
        blank=True,
        help_text=FORMATTING_HELP,
        validators=[validate_no_control_characters],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        _("publish time"),
        null=True,
        blank=True,
        help_text=_("A published comparison appears to visitors from this time on."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last saved"), auto_now=True)
    content_updated_at = models.DateTimeField(
        _("content last updated"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the text visitors read last changed; saves that change nothing "
            "visible leave it alone."
        ),
    )
    content_fingerprint = models.CharField(
        _("content fingerprint"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("SHA-256 of the page's visible text, to tell real changes from re-saves."),
    )
    last_reviewed_at = models.DateTimeField(
        _("last reviewed"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When an editor last checked the whole page was still true."),
    )
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("last reviewed by"),
    )
    review_requested_at = models.DateTimeField(
        _("review requested"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When an editor last accepted a reader's report on this page; a review "
            "after it answers the request."
        ),
    )
    frameworks = models.ManyToManyField(
        Framework, through="Participant", related_name="comparisons", verbose_name=_("frameworks")
    )
    # Kept current by comparisons/search.py (update_search_vectors, called when
    # any of the page's rows is saved or deleted) and only filled on PostgreSQL;
    # its RUM index is made by a migration on PostgreSQL alone (an index in
    # Meta.indexes would break SQLite's table rebuilds).
    search_vector = SearchVectorField(
        _("search vector"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The page's words for search: title, frameworks, verdict, factors, assessments."
        ),
    )
    translations_published = models.JSONField(
        _("translations published"),
        default=list,
        blank=True,
        help_text=_(
            "The languages whose translation visitors read; in any other, the page "
            "shows in English, marked as not yet translated."
        ),
    )
    translation_sources = translation_sources_field()

    objects = ComparisonQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("comparison")
        verbose_name_plural = _("comparisons")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ComparisonStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=ComparisonStatus.DRAFT) | Q(published_at__isnull=False),
                name="%(app_label)s_%(class)s_published_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            # A visitor names a comparison by its title in any case and any
            # language (titled(), the booking form): title_en__iexact is
            # UPPER(title_en) = UPPER(...), which reads these indexes instead of
            # every published comparison's row.
            *(
                models.Index(Upper(f"title_{code}"), name=f"comparisons_title_{code}_upper_idx")
                for code, _ in settings.LANGUAGES
            ),
        ]
        permissions = [("publish_comparison", "Can publish and unpublish comparisons")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("comparisons:detail", kwargs={"slug": self.slug})

    @property
    def category_slug(self):
        """The hub's address, from the English name: the same hub in every language."""
        return category_slug(self.category_en)

    def get_category_url(self):
        """The hub listing this comparison's category."""
        return reverse("comparisons:category", kwargs={"slug": self.category_slug})

    @property
    def is_public(self):
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and not self.is_public

    def state(self):
        """ "draft", "scheduled" or "published": what the page is for visitors right now."""
        if self.status == self.Status.DRAFT:
            return "draft"
        return "scheduled" if self.is_scheduled else "published"

    def state_label(self):
        """The state in words, in the active language."""
        return str(STATE_LABELS[self.state()])

    @property
    def modified_at(self):
        """When the public page last changed: its publication or a later content change."""
        dates = [date for date in (self.published_at, self.content_updated_at) if date]
        return max(dates) if dates else None

    @property
    def updated_since_publication(self):
        return bool(
            self.published_at
            and self.content_updated_at
            and self.content_updated_at > self.published_at
        )

    def review_due_at(self):
        start = self.last_reviewed_at or self.published_at or self.created_at
        return start + REVIEW_INTERVAL

    def review_overdue(self, now=None):
        return self.review_due_at() <= (now or timezone.now())

    def stale_statistics(self, now=None):
        return [statistic for statistic in self.statistics.all() if statistic.is_stale(now)]

    @property
    def review_requested(self):
        """An accepted reader report not yet answered by a review (ComparisonQuerySet twin)."""
        return self.review_requested_at is not None and (
            self.last_reviewed_at is None or self.review_requested_at > self.last_reviewed_at
        )

    def needs_review(self, now=None):
        return self.review_overdue(now) or bool(self.stale_statistics(now)) or self.review_requested

    def mark_reviewed(self, by, now=None):
        self.last_reviewed_at = now or timezone.now()
        self.last_reviewed_by = by
        self.save(update_fields=["last_reviewed_at", "last_reviewed_by", "updated_at"])

    def publication_problems(self):
        """What stops this comparison being published, one item per thing to fix.

        Each factor's gaps are one item, so the list is as long as the places an
        editor must visit; empty when it can be published.
        """
        problems = []
        participants = list(self.participants.select_related("framework"))
        if len(participants) < 2:
            problems.append(
                PublicationProblem(
                    gettext("It compares fewer than two frameworks: add at least two."),
                    field="participants",
                )
            )
        for factor in self.factors.prefetch_related("assessments"):
            assessed = {assessment.participant_id for assessment in factor.assessments.all()}
            missing = [p.framework.name for p in participants if p.pk not in assessed]
            gaps = []
            if missing:
                gaps.append(
                    gettext("no assessment for %(frameworks)s") % {"frameworks": ", ".join(missing)}
                )
            if not factor.is_decided:
                gaps.append(gettext("no winner (choose a framework or Tie)"))
            if gaps:
                text = gettext('Factor "%(factor)s": %(gaps)s.')
                problems.append(
                    PublicationProblem(
                        text % {"factor": factor.name, "gaps": "; ".join(gaps)}, factor=factor
                    )
                )
        if not self.quick_verdict.strip():
            problems.append(
                PublicationProblem(gettext("It has no quick verdict."), field="quick_verdict")
            )
        if not self.meta_description.strip():
            problems.append(
                PublicationProblem(
                    gettext("It has no meta description for search engines."),
                    field="meta_description",
                )
            )
        return problems

    def publish(self, now=None):
        """Publish now, or at the publish time already set; refused with the reasons."""
        problems = self.publication_problems()
        if problems:
            return problems
        self.status = self.Status.PUBLISHED
        self.published_at = self.published_at or now or timezone.now()
        self.save(update_fields=["status", "published_at", "updated_at"])
        return []

    def unpublish(self):
        self.status = self.Status.DRAFT
        self.save(update_fields=["status", "updated_at"])

    def content_text(self, visible_only=False):
        """The page as plain text: what diffs compare and the fingerprint hashes."""
        # Imported here: history renders stored versions too and imports these models.
        from .history import render_content_text

        participants = list(self.participants.select_related("framework"))
        factors = list(self.factors.prefetch_related("assessments"))
        statistics = list(self.statistics.all())
        if visible_only:
            statistics = [s for s in statistics if s.is_complete]
        assessments = [a for factor in factors for a in factor.assessments.all()]
        return render_content_text(
            self, participants, factors, assessments, statistics, with_address=not visible_only
        )

    def refresh_content_dates(self, now=None, *, baseline=None):
        """Move content_updated_at only if the visible text changed. True if it did.

        A baseline records the text without dating a change: by default, when the
        page has neither fingerprint nor update date yet (a new page, or one saved
        before fingerprints existed). A restore passes ``baseline=False``.
        """
        if baseline is None:
            baseline = not self.content_fingerprint and self.content_updated_at is None
        # The English text dates the page, whatever language the editor's admin runs in.
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            text = self.content_text(visible_only=True)
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        if fingerprint == self.content_fingerprint:
            return False
        self.content_fingerprint = fingerprint
        if not baseline:
            self.content_updated_at = now or timezone.now()
        self.save(update_fields=["content_fingerprint", "content_updated_at"])
        return not baseline

    def framework_names(self):
        return [participant.framework.name for participant in self.participants.all()]

    def scoreboard(self):
        """The total score, derived from each factor's decision."""
        participants = list(self.participants.all())
        factors = list(self.factors.all())
        wins = factors_won(participants, factors)
        return Scoreboard(
            rows=[ScoreRow(participant, wins[participant.pk]) for participant in participants],
            ties=sum(factor.is_tie for factor in factors),
            total=len(factors),
        )


@dataclass(frozen=True)
class PublicationProblem:
    """One thing to fix before a comparison can be published, and where it is:
    a field of the comparison ("participants" for the frameworks), or a factor."""

    text: str
    field: str = ""
    factor: "Factor | None" = None

    def __str__(self):
        return self.text


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
        ties = ngettext("%(count)s tie", "%(count)s ties", self.ties) % {"count": self.ties}
        return f"{scores}, {ties}"


@reversion.register()
class Participant(models.Model):
    """One framework's place in a comparison, with its "choose it when..." reasons."""

    comparison = models.ForeignKey(
        Comparison,
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name=_("comparison"),
    )
    framework = models.ForeignKey(
        Framework,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("framework"),
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=1, help_text=_("Order on the page: 1 comes first.")
    )
    is_recommended = models.BooleanField(
        _("recommended"),
        default=False,
        help_text=_("Mark the framework this comparison recommends, if any (at most one)."),
    )
    choose_when = models.TextField(
        _("choose it when..."),
        blank=True,
        help_text=_("One situation per line, for example: Rapid prototyping"),
        validators=[validate_no_control_characters],
    )
    version = models.CharField(
        _("version"),
        max_length=40,
        blank=True,
        help_text=_("If it matters, for example: 2.10"),
        validators=[validate_no_control_characters],
    )
    version_as_of = models.DateField(
        _("as of"),
        null=True,
        blank=True,
        help_text=_("When last checked against it; shown as month and year."),
    )
    translation_sources = translation_sources_field()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("compared framework")
        verbose_name_plural = _("compared frameworks")
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "framework"],
                name="%(app_label)s_%(class)s_framework_once",
                violation_error_message=_("This framework is already part of the comparison."),
            ),
            models.UniqueConstraint(
                fields=["comparison"],
                condition=Q(is_recommended=True),
                name="%(app_label)s_%(class)s_one_recommended",
                violation_error_message=_("Only one framework can be recommended."),
            ),
        ]

    def __str__(self):
        return self.framework.name

    def choose_when_items(self):
        return [line.strip() for line in self.choose_when.splitlines() if line.strip()]

    def version_label(self):
        """What was compared, as readers see it after the name: "2.10, as of March 2026".

        Only the parts that are set; empty when neither is. The one home of this
        text: the page, the structured data and the exports all use it (through
        name_with_version()).
        """
        parts = []
        if self.version:
            parts.append(self.version)
        if self.version_as_of:
            parts.append(f"as of {dateformat.format(self.version_as_of, VERSION_AS_OF_FORMAT)}")
        return ", ".join(parts)

    def name_with_version(self):
        """The framework's name with version_label(): "PyTorch 2.10, as of March 2026",
        "PyTorch 2.10", "PyTorch, as of March 2026", or just "PyTorch"."""
        label = self.version_label()
        if not label:
            return self.framework.name
        separator = " " if self.version else ", "
        return f"{self.framework.name}{separator}{label}"


@reversion.register(follow=["assessments"])
class Factor(models.Model):
    """One row of the comparison table, decided for one participant or as a tie."""

    comparison = models.ForeignKey(
        Comparison, on_delete=models.CASCADE, related_name="factors", verbose_name=_("comparison")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    name = models.CharField(
        _("factor"),
        max_length=120,
        help_text=_("For example: Developer Experience"),
        validators=[validate_no_control_characters],
    )
    # RESTRICT, not PROTECT: deleting the whole comparison deletes both sides.
    winner = models.ForeignKey(
        Participant,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="factors_won",
        verbose_name=_("winner"),
    )
    is_tie = models.BooleanField(_("tie"), default=False)
    translation_sources = translation_sources_field()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("factor")
        verbose_name_plural = _("factors")
        constraints = [
            models.CheckConstraint(
                condition=Q(winner__isnull=True) | Q(is_tie=False),
                name="%(app_label)s_%(class)s_winner_or_tie",
                violation_error_message=_("A factor has a winner or is a tie, not both."),
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

    def assessments_by_participant(self, participants):
        """Each participant's Assessment of this factor (None when not assessed), in the
        comparison's order: what the page shows, each in its own language."""
        found = {assessment.participant_id: assessment for assessment in self.assessments.all()}
        return [(participant, found.get(participant.pk)) for participant in participants]


@reversion.register()
class Assessment(models.Model):
    """How one framework fares on one factor."""

    factor = models.ForeignKey(
        Factor, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("factor")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("participant"),
    )
    text = models.TextField(
        _("assessment"),
        help_text=_("For example: Pythonic, intuitive eager execution, easy debugging"),
        validators=[validate_no_control_characters],
    )
    translation_sources = translation_sources_field()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
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
        return self.exclude(lacks_a_part())

    def incomplete(self):
        """The SQL twin of ``not Statistic.is_complete``."""
        return self.filter(lacks_a_part())

    def stale(self, now=None):
        """Statistics older than STATISTIC_MAX_AGE_YEARS: the SQL twin of Statistic.is_stale()."""
        return self.filter(year__lt=stale_statistic_year(now))


@reversion.register()
class Statistic(models.Model):
    """A key figure, shown only with its description, source, year and link."""

    comparison = models.ForeignKey(
        Comparison,
        on_delete=models.CASCADE,
        related_name="statistics",
        verbose_name=_("comparison"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    value = models.CharField(
        _("value"),
        max_length=40,
        help_text=_("For example: 78%"),
        validators=[validate_no_control_characters],
    )
    description = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_("What the value measures, for example: share of new ML papers using PyTorch"),
        validators=[validate_no_control_characters],
    )
    source_name = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("Who published it, for example: Papers with Code"),
        validators=[validate_no_control_characters],
    )
    source_url = models.URLField(
        _("source link"),
        max_length=500,
        blank=True,
        help_text=_("A direct http(s) link to the page that gives the figure."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"),
        null=True,
        blank=True,
        help_text=_("The year the figure refers to, for example: 2026"),
    )
    translation_sources = translation_sources_field()

    objects = StatisticQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("statistic")
        verbose_name_plural = _("statistics")
        constraints = [
            models.CheckConstraint(
                condition=~Q(value=""), name="%(app_label)s_%(class)s_value_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(source_url="")
                | Q(source_url__startswith="http://")
                | Q(source_url__startswith="https://"),
                name="%(app_label)s_%(class)s_link_is_http",
                violation_error_message=_("The source link must start with http:// or https://."),
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1950, year__lte=2100),
                name="%(app_label)s_%(class)s_year_plausible",
                violation_error_message=_("Enter a year between 1950 and 2100."),
            ),
        ]

    def __str__(self):
        return f"{self.value} {self.description}".strip()

    def missing_parts(self):
        """Names of what this statistic still needs before visitors can see it."""
        return [name for field, name in SOURCE_PARTS.items() if not getattr(self, field)]

    @property
    def is_complete(self):
        return bool(self.value) and not self.missing_parts()

    def is_stale(self, now=None):
        """Older than STATISTIC_MAX_AGE_YEARS: the Python twin of StatisticQuerySet.stale()."""
        return self.year is not None and self.year < stale_statistic_year(now)

    def clean(self):
        if self.source_url and not self.source_url.startswith(("http://", "https://")):
            raise ValidationError(
                {"source_url": gettext("The source link must start with http:// or https://.")},
                code="link_scheme",
            )


def lacks_a_part():
    """A statistic without its value or a part of its source, as a database condition."""
    condition = Q(value="")
    for field in SOURCE_PARTS:
        # A translated part is judged by its English text: a translation missing falls back to it.
        translated = any(f.name == source(field) for f in Statistic._meta.fields)
        name = source(field) if translated else field
        empty = {f"{name}__isnull": True} if Statistic._meta.get_field(field).null else {name: ""}
        condition |= Q(**empty)
    return condition


class OldSlugQuerySet(models.QuerySet):
    def remember(self, comparison, old_slug):
        """Keep ``old_slug`` pointing at ``comparison`` after its address changed."""
        self.filter(slug=comparison.slug).delete()
        if old_slug and old_slug != comparison.slug:
            self.update_or_create(slug=old_slug, defaults={"comparison": comparison})


class OldSlug(models.Model):
    """A former address of a comparison, redirected permanently to the current one."""

    comparison = models.ForeignKey(
        Comparison, on_delete=models.CASCADE, related_name="old_slugs", verbose_name=_("comparison")
    )
    slug = models.SlugField(
        _("old slug"),
        max_length=200,
        unique=True,
        help_text=_("An address the comparison had before, for example: pytorch-vs-tf"),
    )
    created_at = models.DateTimeField(_("replaced on"), auto_now_add=True)

    objects = OldSlugQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self):
        return f"{self.slug} -> {self.comparison.slug}"


class AccuracyReportQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=AccuracyReport.Status.OPEN)


class AccuracyReportStatus(models.TextChoices):
    """AccuracyReport.Status; at module level so that its Meta can build the constraint."""

    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted: the page needs review")
    DISMISSED = "dismissed", _("Dismissed")


class AccuracyReportTarget(models.TextChoices):
    FACTOR = "factor", _("Factor")
    STATISTIC = "statistic", _("Statistic")


# A report's free text: a few sentences, never an essay (the form says so too).
REPORT_TEXT_MAX_LENGTH = 2000


class AccuracyReport(models.Model):
    """A reader's "is this still accurate?" about one factor or one statistic.

    Nothing from a report is ever shown on a public page; editors read it in
    the admin queue and accept it (the page then needs review) or dismiss it
    (comparisons/reports.py). The reported factor or statistic may be deleted
    later: the report stays, with what it was about in ``target_label``.

    Personal data, kept minimal: the reader's email (optional, only for the
    one reply) and their address (only for the hourly rate limit's database
    fallback). Both are erased when the report is resolved; an open report
    keeps them until an editor resolves it.
    """

    Status = AccuracyReportStatus
    Target = AccuracyReportTarget

    comparison = models.ForeignKey(
        Comparison,
        on_delete=models.CASCADE,
        related_name="accuracy_reports",
        verbose_name=_("comparison"),
    )
    target = models.CharField(_("reported"), max_length=10, choices=Target)
    # SET_NULL: deleting the factor or statistic keeps the report (target_label says
    # what it was about), and the constraint below still holds.
    factor = models.ForeignKey(
        Factor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accuracy_reports",
        verbose_name=_("factor"),
    )
    statistic = models.ForeignKey(
        Statistic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accuracy_reports",
        verbose_name=_("statistic"),
    )
    target_label = models.CharField(
        _("about"),
        max_length=400,
        help_text=_(
            "What the reader saw when reporting, for example: Factor “Developer Experience”."
        ),
    )
    text = models.TextField(
        _("what is wrong"),
        max_length=REPORT_TEXT_MAX_LENGTH,
        validators=[validate_no_control_characters],
    )
    source_url = models.URLField(
        _("source link"),
        max_length=500,
        blank=True,
        validators=[validate_http_url],
        help_text=_("A link the reader gave for the correction; never shown on the site."),
    )
    email = models.EmailField(
        _("reply to"), blank=True, help_text=_("Erased once the report is resolved and answered.")
    )
    client_ip = models.GenericIPAddressField(
        _("sent from"), null=True, blank=True, help_text=_("Erased once the report is resolved.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True
    )
    # The reader's language (the address of the page they reported from): the reply
    # to them is written in it, as ConsultationRequest.language is for visitors.
    language = language_field(
        _(
            "The language the reader reported in, for example Deutsch; the reply to "
            "them is written in it."
        )
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    objects = AccuracyReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reader report")
        verbose_name_plural = _("reader reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AccuracyReportStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            # Exactly one target: a factor report never names a statistic and the
            # other way round; the row itself may be gone (SET_NULL).
            models.CheckConstraint(
                condition=Q(target=AccuracyReportTarget.FACTOR, statistic__isnull=True)
                | Q(target=AccuracyReportTarget.STATISTIC, factor__isnull=True),
                name="%(app_label)s_%(class)s_one_target",
            ),
            models.CheckConstraint(
                condition=Q(status=AccuracyReportStatus.OPEN, resolved_at__isnull=True)
                | (~Q(status=AccuracyReportStatus.OPEN) & Q(resolved_at__isnull=False)),
                name="%(app_label)s_%(class)s_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=Q(source_url="")
                | Q(source_url__startswith="http://")
                | Q(source_url__startswith="https://"),
                name="%(app_label)s_%(class)s_link_is_http",
            ),
            models.CheckConstraint(
                condition=~Q(text=""), name="%(app_label)s_%(class)s_text_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="%(app_label)s_%(class)s_language_known",
            ),
        ]

    def __str__(self):
        return f"{self.target_label} on {self.comparison}"

    @classmethod
    def label_for(cls, target):
        """What a factor or statistic is called in the queue, kept if it is deleted."""
        if isinstance(target, Factor):
            return f"Factor “{target.name}”"
        return f"Statistic “{target}”"[:400]

    @property
    def target_object(self):
        """The reported factor or statistic, or None once it was deleted."""
        return self.factor if self.target == self.Target.FACTOR else self.statistic

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class CachePurgeStatus(models.TextChoices):
    """CachePurge.Status; at module level so that its Meta can build the constraint."""

    PENDING = "pending", _("Pending")
    PURGED = "purged", _("Purged")


class CachePurgeQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(status=CachePurgeStatus.PENDING, next_attempt_at__lte=now)

    def claimable(self, now=None):
        """Due at ``now`` and not leased to a worker (compare_site/leases.py)."""
        return self.due(now).filter(leases.lease_free())

    def claim_next(self, *, token, now=None):
        """Lease the next purge due at ``now`` to the worker holding ``token``; or None."""
        return leases.claim_next(
            lambda: self.claimable(now), token=token, seconds=CachePurge.LEASE_SECONDS
        )


class CachePurge(models.Model):
    """Tags to purge from one shared HTTP cache, in the outbox until the cache confirms.

    Written in the transaction of the change it announces (comparisons/purges.py),
    tried right after the commit, and retried by the task worker, with backoff
    and without end, until the cache answers 200: a purge is never dropped.
    """

    Status = CachePurgeStatus

    # A PURGE takes at most HTTP_CACHE_PURGE_TIMEOUT_SECONDS; the lease leaves room.
    LEASE_SECONDS = 30
    MAX_RETRY = timedelta(minutes=10)

    cache_url = models.URLField(
        _("cache"),
        max_length=500,
        help_text=_(
            "Where PURGE is sent, one of HTTP_CACHE_PURGE_URLS, e.g. http://127.0.0.1:6081/"
        ),
    )
    keys = models.TextField(
        _("tags"),
        help_text=_("The xkey tags of the pages to purge, e.g. comparison-12 framework-3 listings"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt"),
        default=timezone.now,
        help_text=_("Not before then; a scheduled publication's purge waits for its publish time."),
    )
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    purged_at = models.DateTimeField(_("purged"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    leased_until = models.DateTimeField(
        _("leased until"),
        null=True,
        blank=True,
        help_text=_("A worker is sending it until then; after that another may take it over."),
    )
    lease_token = models.CharField(_("lease holder"), max_length=32, blank=True)

    objects = CachePurgeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("cache purge")
        verbose_name_plural = _("cache purges")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CachePurgeStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=CachePurgeStatus.PURGED) | Q(purged_at__isnull=False),
                name="%(app_label)s_%(class)s_purged_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="comparisons_purge_due_idx")
        ]

    def __str__(self):
        return f"{self.keys} at {self.cache_url}"

    def retry_delay(self):
        """HTTP_CACHE_PURGE_RETRY_SECONDS after the first failure, doubling up to MAX_RETRY."""
        first = timedelta(seconds=settings.HTTP_CACHE_PURGE_RETRY_SECONDS)
        return min(first * 2 ** min(self.attempts - 1, 20), self.MAX_RETRY)

    def record(self, error, now=None):
        """Save this attempt's result (``error``: None when purged) while our lease holds;
        False when another worker took the purge over meanwhile."""
        now = now or timezone.now()
        self.attempts += 1
        if error is None:
            self.status, self.purged_at, self.last_error = self.Status.PURGED, now, ""
        else:
            self.last_error = error[:2000]
            self.next_attempt_at = now + self.retry_delay()
        return bool(
            CachePurge.objects.filter(
                pk=self.pk, lease_token=self.lease_token, status=self.Status.PENDING
            ).update(
                attempts=self.attempts,
                status=self.status,
                purged_at=self.purged_at,
                last_error=self.last_error,
                next_attempt_at=self.next_attempt_at,
                leased_until=None,
                lease_token="",
            )
        )
