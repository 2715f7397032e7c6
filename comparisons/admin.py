"""Editors manage whole comparisons from one admin page, through inlines.

Publishing needs the publish_comparison permission and a complete comparison;
every save is a revision (django-reversion) that can be compared and reverted.
"""

from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import apnumber
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from reversion.admin import VersionAdmin
from reversion.models import Version

from .forms import assessment_field_name, factor_form_for
from .history import restore_version, version_diff
from .models import (
    REVIEW_INTERVAL,
    STATISTIC_MAX_AGE_YEARS,
    Comparison,
    Factor,
    Framework,
    OldSlug,
    Participant,
    Statistic,
)


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ParticipantInline(admin.TabularInline):
    model = Participant
    fields = ["position", "framework", "is_recommended", "choose_when"]
    autocomplete_fields = ["framework"]
    extra = 0
    min_num = 2
    verbose_name = "compared framework"
    verbose_name_plural = "Compared frameworks (at least two, in page order)"


class FactorInline(admin.StackedInline):
    model = Factor
    extra = 0
    verbose_name_plural = (
        "Factors (each framework's assessment and the winner; "
        "save after adding a framework to get its assessment field)"
    )

    def _participants(self, obj):
        if obj is None or obj.pk is None:
            return []
        return list(obj.participants.select_related("framework"))

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = factor_form_for(self._participants(obj))
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        assessments = [assessment_field_name(p) for p in self._participants(obj)]
        return ["position", "name", *assessments, "decision"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assessments")


@admin.display(description="still needs")
def needs(statistic):
    """What a statistic lacks before visitors see it: a column of both statistics lists."""
    if statistic.pk is None:
        return "-"
    return ", ".join(statistic.missing_parts()) or "Nothing: shown on the page"


class SourcedFilter(admin.SimpleListFilter):
    """Statistics that still need a source, or comparisons holding one."""

    title = "source"
    parameter_name = "sourced"

    def lookups(self, request, model_admin):
        return [("no", "Needs a source"), ("yes", "Fully sourced")]

    def queryset(self, request, queryset):
        needing = Statistic.objects.incomplete()
        if queryset.model is Comparison:
            needing = needing.values("comparison")
        if self.value() == "no":
            return queryset.filter(pk__in=needing)
        if self.value() == "yes":
            return queryset.exclude(pk__in=needing)
        return queryset


class StatisticInline(admin.TabularInline):
    model = Statistic
    fields = ["position", "value", "description", "source_name", "source_url", "year", needs]
    readonly_fields = [needs]
    extra = 0


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("draft", "Draft"), ("scheduled", "Scheduled"), ("published", "Published")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(status=Comparison.Status.DRAFT)
        if self.value() == "scheduled":
            return queryset.scheduled()
        if self.value() == "published":
            return queryset.published()
        return queryset


class NeedsReviewFilter(admin.SimpleListFilter):
    title = "needs review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("any", "Needs review"),
            ("overdue", f"Not reviewed for {REVIEW_INTERVAL.days} days"),
            ("stale", f"Statistics older than {apnumber(STATISTIC_MAX_AGE_YEARS)} years"),
            ("ok", "Up to date"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.needs_review()
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "stale":
            return queryset.with_stale_statistics()
        if self.value() == "ok":
            return queryset.exclude(pk__in=Comparison.objects.needs_review().values("pk"))
        return queryset


@admin.register(Comparison)
class ComparisonAdmin(VersionAdmin):
    list_display = [
        "title",
        "frameworks_compared",
        "category",
        "state",
        "published_at",
        "content_updated_at",
        "last_reviewed_at",
        "review",
        "statistics_needing_sources",
    ]
    list_filter = [StateFilter, NeedsReviewFilter, "category", SourcedFilter]
    search_fields = ["title", "slug", "subtitle", "participants__framework__name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    inlines = [ParticipantInline, FactorInline, StatisticInline]
    actions = ["publish", "unpublish", "mark_reviewed"]
    object_history_template = "admin/comparisons/comparison/object_history.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "subtitle", "category"]}),
        ("Verdict", {"fields": ["quick_verdict", "recommendation", "meta_description"]}),
        (
            "Publishing",
            {
                "fields": ["status", "published_at"],
                "description": "Published with a future publish time means scheduled: the page "
                "appears by itself at that time. A comparison is published only once it is "
                "complete; what is missing is listed when you save.",
            },
        ),
        (
            "Dates and addresses",
            {
                "fields": [
                    "content_updated_at",
                    "last_reviewed_at",
                    "last_reviewed_by",
                    "old_addresses",
                ]
            },
        ),
    ]

    def has_publish_permission(self, request):
        return request.user.has_perm("comparisons.publish_comparison")

    def get_readonly_fields(self, request, obj=None):
        readonly = ["content_updated_at", "last_reviewed_at", "last_reviewed_by", "old_addresses"]
        if not self.has_publish_permission(request):
            readonly += ["status", "published_at"]
        return readonly

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("participants__framework")
            .annotate(
                incomplete_statistics=Count(
                    "statistics",
                    filter=Q(statistics__in=Statistic.objects.incomplete()),
                    distinct=True,
                ),
                stale_statistics_count=Count(
                    "statistics", filter=Q(statistics__in=Statistic.objects.stale()), distinct=True
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
        if change and "slug" in form.changed_data:
            OldSlug.objects.remember(obj, form.initial.get("slug"))

    def save_related(self, request, form, formsets, change):
        """After the inlines are saved: refuse an incomplete publication, then date the change."""
        super().save_related(request, form, formsets, change)
        comparison = form.instance
        if comparison.status == Comparison.Status.PUBLISHED:
            problems = comparison.publication_problems()
            if problems:
                comparison.unpublish()
                self.message_user(
                    request,
                    refused_message(comparison, problems, saved=True),
                    messages.ERROR,
                )
        comparison.refresh_content_dates()

    @admin.action(description="Publish selected comparisons", permissions=["publish"])
    def publish(self, request, queryset):
        published = 0
        for comparison in queryset:
            problems = comparison.publish()
            if problems:
                self.message_user(request, refused_message(comparison, problems), messages.ERROR)
            else:
                published += 1
        if published:
            self.message_user(request, f"Published {published} comparison(s).", messages.SUCCESS)

    @admin.action(
        description="Unpublish selected comparisons (back to draft)", permissions=["publish"]
    )
    def unpublish(self, request, queryset):
        for comparison in queryset:
            comparison.unpublish()
        self.message_user(request, f"{len(queryset)} comparison(s) are drafts now.")

    @admin.action(description="Mark selected comparisons reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        now = timezone.now()
        for comparison in queryset:
            comparison.mark_reviewed(by=request.user, now=now)
        self.message_user(request, f"Marked {len(queryset)} comparison(s) reviewed today.")

    @admin.display(description="frameworks")
    def frameworks_compared(self, comparison):
        return " vs ".join(comparison.framework_names())

    @admin.display(description="state", ordering="status")
    def state(self, comparison):
        if comparison.is_scheduled:
            return f"Scheduled for {timezone.localtime(comparison.published_at):%Y-%m-%d %H:%M}"
        return comparison.state_label()

    @admin.display(description="review")
    def review(self, comparison):
        reasons = []
        if comparison.review_overdue():
            reasons.append("Review overdue")
        if comparison.stale_statistics_count:
            reasons.append(f"{comparison.stale_statistics_count} old statistic(s)")
        return "Needs review: " + ", ".join(reasons) if reasons else "Up to date"

    @admin.display(description="old addresses (redirected here)")
    def old_addresses(self, comparison):
        if comparison.pk is None:
            return "-"
        return ", ".join(comparison.old_slugs.values_list("slug", flat=True)) or "none"

    @admin.display(description="statistics needing a source", ordering="incomplete_statistics")
    def statistics_needing_sources(self, comparison):
        return comparison.incomplete_statistics or "none"

    # History: a readable difference between any two saved versions.

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.diff_view),
                name="comparisons_comparison_diff",
            ),
            path(
                "<path:object_id>/history/<int:version_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="comparisons_comparison_restore",
            ),
        ]
        return [*urls, *super().get_urls()]

    def _versions(self, comparison):
        return Version.objects.get_for_object(comparison).select_related("revision__user")

    def history_view(self, request, object_id, extra_context=None):
        comparison = get_object_or_404(Comparison, pk=object_id)
        versions = list(self._versions(comparison).order_by("pk"))
        diff_url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
        rows = [
            {
                "version": version,
                "current_url": f"{diff_url}?from={version.pk}",
                "diff_url": f"{diff_url}?from={previous.pk}&to={version.pk}" if previous else "",
            }
            for previous, version in zip([None, *versions], versions, strict=False)
        ]
        context = {"version_rows": rows, "diff_url": diff_url, **(extra_context or {})}
        return super().history_view(request, object_id, context)

    def recover_view(self, request, version_id, extra_context=None):
        """A deleted comparison comes back as it was, possibly published: publishers only."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """Versions are reviewed as a diff and restored whole, from the diff page."""
        diff_url = reverse("admin:comparisons_comparison_diff", args=[object_id])
        return redirect(f"{diff_url}?from={int(version_id)}")

    def diff_view(self, request, object_id):
        """What changed between two versions, or between a version and the page now."""
        comparison = get_object_or_404(Comparison, pk=object_id)
        if not self.has_view_or_change_permission(request, comparison):
            raise PermissionDenied
        versions = self._versions(comparison)
        old = get_object_or_404(versions, pk=request.GET.get("from") or 0)
        new = get_object_or_404(versions, pk=request.GET["to"]) if request.GET.get("to") else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": comparison,
            "title": f"Changes to {comparison}",
            "old": old,
            "new": new,
            "lines": version_diff(old, new, comparison),
            "can_restore": self.has_change_permission(request, comparison),
        }
        return TemplateResponse(request, "admin/comparisons/comparison/diff.html", context)

    def restore_view(self, request, object_id, version_id):
        """Restore a whole version: the comparison with its frameworks, factors and figures."""
        comparison = get_object_or_404(Comparison, pk=object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, comparison):
            raise PermissionDenied
        version = get_object_or_404(self._versions(comparison), pk=version_id)
        was_published = comparison.status == Comparison.Status.PUBLISHED
        restored = restore_version(comparison, version, user=request.user)
        when = timezone.localtime(version.revision.date_created)
        self.message_user(request, f"Restored the version saved on {when:%Y-%m-%d %H:%M}.")
        if was_published and restored.status == Comparison.Status.DRAFT:
            problems = restored.publication_problems()
            self.message_user(
                request, refused_message(restored, problems, saved=True), messages.ERROR
            )
        return redirect("admin:comparisons_comparison_change", restored.pk)


def refused_message(comparison, problems, saved=False):
    """Why a comparison was not published, as a list an editor can work through."""
    outcome = "was saved as a draft, not published" if saved else "was not published"
    return format_html(
        '"{}" {}. Still missing:<ul>{}</ul>',
        comparison,
        outcome,
        format_html_join("", "<li>{}</li>", ((problem,) for problem in problems)),
    )


@admin.register(Statistic)
class StatisticAdmin(admin.ModelAdmin):
    """All statistics in one list, to find the ones still missing a source."""

    list_display = ["value", "description", "comparison", "source_name", "year", needs]
    list_filter = [SourcedFilter]
    list_select_related = ["comparison"]
    search_fields = ["value", "description", "source_name", "comparison__title"]
    autocomplete_fields = ["comparison"]
