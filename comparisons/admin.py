"""Editors manage whole comparisons from one admin page, through inlines.

Publishing needs the publish_comparison permission and a complete comparison;
every save is a revision (django-reversion) that can be compared and reverted
(admin_history.py holds those pages).
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.humanize.templatetags.humanize import apnumber
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, format_lazy
from django.utils.translation import get_language_info, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .admin_history import ComparisonHistoryAdmin, refused_message
from .admin_preview import markdown_preview
from .admin_reports import AccuracyReportAdmin  # noqa: F401 - registers the reports queue
from .forms import (
    MAX_FRAMEWORK_ROWS,
    ComparisonForm,
    FactorFormSet,
    OrderedRowForm,
    assessment_field_name,
    factor_form_for,
    framework_rows,
    german_fields,
    number_rows,
    saved_participants,
)
from .models import (
    REVIEW_INTERVAL,
    STATE_LABELS,
    STATISTIC_MAX_AGE_YEARS,
    AccuracyReport,
    Comparison,
    Factor,
    Framework,
    OldSlug,
    Participant,
    Statistic,
)
from .translation import (
    TARGET_LANGUAGES,
    TRANSLATED_FIELDS,
    completeness,
    missing_fields,
    outdated_fields,
    page_rows,
    record_sources,
)


def record_changed_translations(form):
    """Note the English text that the translations changed in ``form`` were made from
    (comparisons/translation.py): they count as current until the English changes."""
    instance = form.instance
    fields = TRANSLATED_FIELDS.get(type(instance), ())
    changed = False
    for language in TARGET_LANGUAGES:
        edited = [f for f in fields if f"{f}_{language}" in form.changed_data]
        if edited:
            record_sources(instance, language, edited)
            changed = True
    if changed and instance.pk:
        instance.save(update_fields=["translation_sources"])


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website"]
    fields = ["name", "slug", "description", *german_fields(["description"]), "website"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_changed_translations(form)


class ParticipantInline(admin.StackedInline):
    """The compared frameworks. A plain select, so that rows can be filled without
    JavaScript; its "+" opens the admin's popup to add a framework in place.
    Stacked, not a table: each field keeps its own label, and it fits the page."""

    model = Participant
    form = OrderedRowForm
    fields = [
        ("framework", "is_recommended"),
        ("version", "version_as_of"),
        ("choose_when", *german_fields(["choose_when"])),
        "position",
    ]
    classes = ["ordered-rows"]
    max_num = MAX_FRAMEWORK_ROWS  # the factor forms have a field for each row
    verbose_name = _("compared framework")
    verbose_name_plural = _("Compared frameworks (at least two, in page order)")

    def get_extra(self, request, obj=None, **kwargs):
        return empty_framework_rows(obj)


def empty_framework_rows(comparison):
    """Blank framework rows on the page: three on a new comparison, so that a
    three-way page can be built in one save without JavaScript; one after."""
    return 3 if comparison is None or comparison.pk is None else 1


class FactorInline(admin.StackedInline):
    """Factors with one assessment per framework row and the winner, before any save."""

    model = Factor
    formset = FactorFormSet
    template = "admin/comparisons/comparison/factor_inline.html"
    classes = ["ordered-rows"]
    verbose_name_plural = _("Factors (each framework's assessment and the winner)")

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None or obj.pk is None else 1

    def _rows(self, request, obj):
        posted = request.POST if request.method == "POST" else None
        return framework_rows(obj, posted, extra=empty_framework_rows(obj))

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = factor_form_for(self._rows(request, obj), saved_participants(obj))
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        rows = self._rows(request, obj)
        assessments = [assessment_field_name(row.index) for row in rows]
        translated = [
            assessment_field_name(row.index, language)
            for language in TARGET_LANGUAGES
            for row in rows
        ]
        return ["position", "name", *german_fields(["name"]), *assessments, *translated, "decision"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assessments")


@admin.display(description=_("still needs"))
def needs(statistic):
    """What a statistic lacks before visitors see it: a column of both statistics lists."""
    if statistic.pk is None:
        return "-"
    return ", ".join(str(part) for part in statistic.missing_parts()) or gettext(
        "Nothing: shown on the page"
    )


class SourcedFilter(admin.SimpleListFilter):
    """Statistics that still need a source, or comparisons holding one."""

    title = _("source")
    parameter_name = "sourced"

    def lookups(self, request, model_admin):
        return [("no", _("Needs a source")), ("yes", _("Fully sourced"))]

    def queryset(self, request, queryset):
        needing = Statistic.objects.incomplete()
        if queryset.model is Comparison:
            needing = needing.values("comparison")
        if self.value() == "no":
            return queryset.filter(pk__in=needing)
        if self.value() == "yes":
            return queryset.exclude(pk__in=needing)
        return queryset


class StatisticInline(admin.StackedInline):
    """Stacked, two fields a line: the seven columns of a table do not fit the page."""

    model = Statistic
    form = OrderedRowForm
    fields = [
        ("value", "year"),
        ("description", *german_fields(["description"])),
        ("source_name", *german_fields(["source_name"])),
        "source_url",
        ("position", needs),
    ]
    readonly_fields = [needs]
    classes = ["ordered-rows"]
    extra = 0


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(STATE_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(status=Comparison.Status.DRAFT)
        if self.value() == "scheduled":
            return queryset.scheduled()
        if self.value() == "published":
            return queryset.published()
        return queryset


# Why a comparison needs review when a reader's report was accepted (filter and column).
READER_REPORT_ACCEPTED = _("Reader report accepted")


class NeedsReviewFilter(admin.SimpleListFilter):
    title = _("needs review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("any", _("Needs review")),
            (
                "overdue",
                gettext("Not reviewed for %(days)s days") % {"days": REVIEW_INTERVAL.days},
            ),
            (
                "stale",
                gettext("Statistics older than %(years)s years")
                % {"years": apnumber(STATISTIC_MAX_AGE_YEARS)},
            ),
            ("reported", READER_REPORT_ACCEPTED),
            ("ok", _("Up to date")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.needs_review()
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "stale":
            return queryset.with_stale_statistics()
        if self.value() == "reported":
            return queryset.review_requested()
        if self.value() == "ok":
            return queryset.exclude(pk__in=Comparison.objects.needs_review().values("pk"))
        return queryset


# Set on the request by save_related when a publication was refused, with the problems.
PUBLICATION_REFUSED = "comparison_publication_refused"

# What the site records about a comparison; editors read these, never type them.
RECORDED_FIELDS = ["content_updated_at", "last_reviewed_at", "last_reviewed_by", "old_addresses"]
# The fields templates/comparisons/detail.html shows through rich_text: each gets a live
# preview where JavaScript runs (admin_preview.py, static/js/markdown-preview.js).
RICH_TEXT_FIELDS = ["quick_verdict", "recommendation"]


@admin.register(Comparison)
class ComparisonAdmin(ComparisonHistoryAdmin):
    """A whole comparison on one page: its frameworks, factors and statistics as inlines."""

    # Few, short columns: the list must fit beside the filters on a 1280 px screen.
    # Dates are inside the state and review columns.
    list_display = [
        "title",
        "frameworks_compared",
        "state",
        "review",
        "statistics_needing_sources",
        "open_reports",
        "translations",
    ]
    form = ComparisonForm
    list_filter = [StateFilter, NeedsReviewFilter, "category", SourcedFilter]
    search_fields = ["title", "slug", "subtitle", "participants__framework__name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    inlines = [ParticipantInline, FactorInline, StatisticInline]
    actions = ["publish", "unpublish", "mark_reviewed"]
    object_history_template = "admin/comparisons/comparison/object_history.html"

    class Media:
        css = {"all": ["css/comparison-editor.css", "css/admin-markdown-preview.css"]}
        js = ["js/comparison-editor.js", "js/markdown-preview.js"]

    fieldsets = [
        (None, {"fields": ["title", "slug", "subtitle", "category"]}),
        (
            _("Verdict"),
            {
                "fields": [
                    "quick_verdict",
                    "recommendation",
                    "meta_description",
                    "keep_recommendation",
                ]
            },
        ),
        (
            _("Publishing"),
            {
                "fields": ["status", "published_at"],
                "description": _(
                    "Published with a future publish time means scheduled: the page "
                    "appears by itself at that time. A comparison is published only once it is "
                    "complete; what is missing is listed when you save."
                ),
            },
        ),
        (
            _("Translations"),
            {
                "fields": [
                    *german_fields(TRANSLATED_FIELDS[Comparison]),
                    "translations_published",
                    "translation_status",
                    "confirm_translations",
                ],
                "description": _(
                    "Each field in German. A field left empty shows in English "
                    "with a note; the frameworks', factors' and statistics' German fields are "
                    "in their rows above."
                ),
            },
        ),
        (_("Dates and addresses"), {"fields": RECORDED_FIELDS}),
    ]

    def get_urls(self):
        # Before the inherited "<path:object_id>/" pattern, which would take this address.
        preview = path(
            "markdown-preview/",
            markdown_preview,
            name="comparisons_comparison_markdown_preview",
        )
        return [preview, *super().get_urls()]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Rich-text fields say where their preview comes from; the script looks for that."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            # A callable default (the category's, per language) makes Django add a
            # hidden "initial-" copy of the input that repeats its aria-describedby,
            # which HTML forbids on a hidden input; the copy only tells whether the
            # default was changed, which this form does not need to know.
            formfield.show_hidden_initial = False
        if db_field.name in [*RICH_TEXT_FIELDS, *german_fields(RICH_TEXT_FIELDS)]:
            formfield.widget.attrs["data-markdown-preview"] = reverse(
                "admin:comparisons_comparison_markdown_preview"
            )
        return formfield

    def get_readonly_fields(self, request, obj=None):
        readonly = [*RECORDED_FIELDS, "translation_status"]
        if not self.has_publish_permission(request):
            readonly += ["status", "published_at"]
        return readonly

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("participants__framework", "factors__assessments", "statistics")
            .annotate(
                incomplete_statistics=Count(
                    "statistics",
                    filter=Q(statistics__in=Statistic.objects.incomplete()),
                    distinct=True,
                ),
                stale_statistics_count=Count(
                    "statistics", filter=Q(statistics__in=Statistic.objects.stale()), distinct=True
                ),
                open_reports_count=Count(
                    "accuracy_reports",
                    filter=Q(accuracy_reports__status=AccuracyReport.Status.OPEN),
                    distinct=True,
                ),
            )
        )

    def save_model(self, request, obj, form, change):
        if not self.has_publish_permission(request):
            # The status fields are read-only for this user; never trust the instance either.
            stored = Comparison.objects.filter(pk=obj.pk).values("status", "published_at").first()
            obj.status = stored["status"] if stored else Comparison.Status.DRAFT
            obj.published_at = stored["published_at"] if stored else None
        super().save_model(request, obj, form, change)
        record_changed_translations(form)
        if change and "slug" in form.changed_data:
            OldSlug.objects.remember(obj, form.initial.get("slug"))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for row_form in formset.forms:
            if row_form.instance.pk and not formset._should_delete_form(row_form):
                record_changed_translations(row_form)
        if formset.model in (Participant, Factor, Statistic):
            number_rows(formset.model.objects.filter(comparison=form.instance))

    def save_related(self, request, form, formsets, change):
        """After the inlines are saved: publish if asked and complete, then date the change."""
        super().save_related(request, form, formsets, change)
        comparison = form.instance
        if form.cleaned_data.get("confirm_translations"):
            confirm_translations(comparison)
        asks_to_publish = getattr(form, "asks_to_publish", False)  # ComparisonForm.clean
        if asks_to_publish or comparison.status == Comparison.Status.PUBLISHED:
            problems = comparison.publication_problems()
            if problems:
                if comparison.status == Comparison.Status.PUBLISHED:
                    comparison.unpublish()
                setattr(request, PUBLICATION_REFUSED, problems)
            elif comparison.status != Comparison.Status.PUBLISHED:
                comparison.publish()
        comparison.refresh_content_dates()

    def response_add(self, request, obj, post_url_continue=None):
        return self._refused_response(request, obj) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request, obj):
        return self._refused_response(request, obj) or super().response_change(request, obj)

    def _refused_response(self, request, obj):
        """A refused publication: its one message instead of "saved successfully",
        and back to the page to fix it, whichever save button was pressed."""
        problems = getattr(request, PUBLICATION_REFUSED, None)
        if problems is None or IS_POPUP_VAR in request.POST:
            return None
        self.message_user(request, refused_message(obj, problems, saved=True), messages.ERROR)
        return redirect("admin:comparisons_comparison_change", obj.pk)

    @admin.action(description=_("Publish selected comparisons"), permissions=["publish"])
    def publish(self, request, queryset):
        published = 0
        for comparison in queryset:
            problems = comparison.publish()
            if problems:
                self.message_user(request, refused_message(comparison, problems), messages.ERROR)
            else:
                published += 1
        if published:
            message = ngettext(
                "Published %(count)d comparison.", "Published %(count)d comparisons.", published
            )
            self.message_user(request, message % {"count": published}, messages.SUCCESS)

    @admin.action(
        description=_("Unpublish selected comparisons (back to draft)"), permissions=["publish"]
    )
    def unpublish(self, request, queryset):
        for comparison in queryset:
            comparison.unpublish()
        count = len(queryset)
        message = ngettext(
            "%(count)d comparison is a draft now.", "%(count)d comparisons are drafts now.", count
        )
        self.message_user(request, message % {"count": count})

    @admin.action(description=_("Mark selected comparisons reviewed"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        now = timezone.now()
        for comparison in queryset:
            comparison.mark_reviewed(by=request.user, now=now)
        count = len(queryset)
        message = ngettext(
            "Marked %(count)d comparison reviewed today.",
            "Marked %(count)d comparisons reviewed today.",
            count,
        )
        self.message_user(request, message % {"count": count})

    @admin.display(description=_("frameworks"))
    def frameworks_compared(self, comparison):
        return " vs ".join(comparison.framework_names())

    @admin.display(description=_("state"), ordering="published_at")
    def state(self, comparison):
        if comparison.is_scheduled:
            return gettext("Scheduled for %(moment)s") % {
                "moment": f"{timezone.localtime(comparison.published_at):%Y-%m-%d %H:%M}"
            }
        if comparison.is_public:
            return gettext("Published %(date)s") % {
                "date": f"{timezone.localtime(comparison.published_at):%Y-%m-%d}"
            }
        return comparison.state_label()

    @admin.display(description=_("review"))
    def review(self, comparison):
        reasons = []
        if comparison.review_overdue():
            reasons.append(gettext("Review overdue"))
        if count := comparison.stale_statistics_count:
            text = ngettext("%(count)d old statistic", "%(count)d old statistics", count)
            reasons.append(text % {"count": count})
        if comparison.review_requested:
            reasons.append(str(READER_REPORT_ACCEPTED))

        if reasons:
            return gettext("Needs review: %(reasons)s") % {"reasons": ", ".join(reasons)}
        if comparison.last_reviewed_at:
            reviewed = timezone.localtime(comparison.last_reviewed_at)
            return gettext("Up to date (reviewed %(date)s)") % {"date": f"{reviewed:%Y-%m-%d}"}
        return gettext("Up to date")

    @admin.display(description=_("old addresses (redirected here)"))
    def old_addresses(self, comparison):
        if comparison.pk is None:
            return "-"
        return ", ".join(comparison.old_slugs.values_list("slug", flat=True)) or gettext("none")

    @admin.display(description=_("open reports"), ordering="open_reports_count")
    def open_reports(self, comparison):
        if not comparison.open_reports_count:
            return gettext("none")
        queue = reverse("admin:comparisons_accuracyreport_changelist")
        return format_html(
            '<a href="{}?comparison__id__exact={}&amp;status__exact=open">{}</a>',
            queue,
            comparison.pk,
            comparison.open_reports_count,
        )

    # Headed by the languages' names ("German"): the list has no width to spare
    # beside the filters for a longer heading.
    @admin.display(
        description=format_lazy(
            ", ".join("{}" for _code in TARGET_LANGUAGES),
            *(get_language_info(code)["name_translated"] for code in TARGET_LANGUAGES),
        )
    )
    def translations(self, comparison):
        """Per language: how much is translated, how much is outdated, whether published."""
        return "; ".join(str(completeness(comparison, code)) for code in TARGET_LANGUAGES)

    @admin.display(description=_("translation status"))
    def translation_status(self, comparison):
        """What is missing or outdated, field by field, per language."""
        if comparison.pk is None:
            return "-"
        lines = []
        for language in TARGET_LANGUAGES:
            lines.append(str(completeness(comparison, language)))
            for row in page_rows(comparison):
                label = row_label(row)
                for field in outdated_fields(row, language):
                    text = gettext("Outdated (%(language)s): %(row)s, %(field)s")
                    lines.append(text % {"language": language, "row": label, "field": field})
                for field in missing_fields(row, language):
                    text = gettext("Not translated (%(language)s): %(row)s, %(field)s")
                    lines.append(text % {"language": language, "row": label, "field": field})
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("unsourced figures"), ordering="incomplete_statistics")
    def statistics_needing_sources(self, comparison):
        return comparison.incomplete_statistics or gettext("none")


def row_label(row):
    """How the translation status names a row: 'Factor "Speed"'."""
    if isinstance(row, Comparison):
        return gettext("Comparison")
    return f"{capfirst(row._meta.verbose_name)} “{row}”"


def confirm_translations(comparison):
    """An editor checked every translation of ``comparison`` against the English text."""
    for row in page_rows(comparison):
        for language in TARGET_LANGUAGES:
            record_sources(row, language)
        row.save(update_fields=["translation_sources"])


@admin.register(Statistic)
class StatisticAdmin(admin.ModelAdmin):
    """All statistics in one list, to find the ones still missing a source."""

    list_display = ["value", "description", "comparison", "source_name", "year", needs]
    list_filter = [SourcedFilter]
    list_select_related = ["comparison"]
    search_fields = ["value", "description", "source_name", "comparison__title"]
    autocomplete_fields = ["comparison"]
