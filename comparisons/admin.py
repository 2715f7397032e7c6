"""Editors manage whole comparisons from one admin page, through inlines."""

from django.contrib import admin
from django.db.models import Count, Q

from .forms import assessment_field_name, factor_form_for
from .models import Comparison, Factor, Framework, Participant, Statistic


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


class StatisticInline(admin.TabularInline):
    model = Statistic
    fields = ["position", "value", "description", "source_name", "source_url", "year", "needs"]
    readonly_fields = ["needs"]
    extra = 0

    @admin.display(description="Still needs")
    def needs(self, statistic):
        if statistic.pk is None:
            return "-"
        missing = statistic.missing_parts()
        return ", ".join(missing) if missing else "Nothing: shown on the page"


class StatisticsCompleteFilter(admin.SimpleListFilter):
    title = "statistics"
    parameter_name = "statistics"

    def lookups(self, request, model_admin):
        return [("incomplete", "Some need a source"), ("complete", "All sourced")]

    def queryset(self, request, queryset):
        if self.value() == "incomplete":
            return queryset.filter(pk__in=Statistic.objects.incomplete().values("comparison"))
        if self.value() == "complete":
            return queryset.exclude(pk__in=Statistic.objects.incomplete().values("comparison"))
        return queryset


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "frameworks_compared",
        "category",
        "status",
        "published_at",
        "updated_at",
        "statistics_needing_sources",
    ]
    list_filter = ["status", "category", StatisticsCompleteFilter]
    search_fields = ["title", "slug", "subtitle", "participants__framework__name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    inlines = [ParticipantInline, FactorInline, StatisticInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "subtitle", "category"]}),
        ("Verdict", {"fields": ["quick_verdict", "recommendation", "meta_description"]}),
        ("Publishing", {"fields": ["status", "published_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("participants__framework")
            .annotate(
                incomplete_statistics=Count(
                    "statistics",
                    filter=Q(statistics__description="")
                    | Q(statistics__source_name="")
                    | Q(statistics__source_url="")
                    | Q(statistics__year__isnull=True),
                    distinct=True,
                )
            )
        )

    @admin.display(description="frameworks")
    def frameworks_compared(self, comparison):
        return " vs ".join(comparison.framework_names())

    @admin.display(description="statistics needing a source", ordering="incomplete_statistics")
    def statistics_needing_sources(self, comparison):
        return comparison.incomplete_statistics or "none"


class StatisticNeedsFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "sourced"

    def lookups(self, request, model_admin):
        return [("no", "Needs a source"), ("yes", "Fully sourced")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.incomplete()
        if self.value() == "yes":
            return queryset.complete()
        return queryset


@admin.register(Statistic)
class StatisticAdmin(admin.ModelAdmin):
    """All statistics in one list, to find the ones still missing a source."""

    list_display = ["value", "description", "comparison", "source_name", "year", "needs"]
    list_filter = [StatisticNeedsFilter]
    list_select_related = ["comparison"]
    search_fields = ["value", "description", "source_name", "comparison__title"]
    autocomplete_fields = ["comparison"]

    @admin.display(description="still needs")
    def needs(self, statistic):
        return ", ".join(statistic.missing_parts()) or "nothing"
