"""The editors' queue of readers' accuracy reports (comparisons/reports.py).

Each report links to what it is about on the comparison's admin page (the
inline row's anchor) and on the live page. Reports are never edited or added
here: an open one is accepted (the page then needs review) or dismissed, from
the list's actions or the buttons on its page, through reports.resolve_report.
Only the Editors group holds this model's permissions (migration 0008).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import AccuracyReport, Factor, Statistic
from .reports import resolve_report

# Only pk and position: enough to find a row's place among the comparison's inlines.
ROW_ORDER = {
    "factors": Factor.objects.only("pk", "position", "comparison_id"),
    "statistics": Statistic.objects.only("pk", "position", "comparison_id"),
}


def admin_row_url(report):
    """The comparison's admin page, at the inline row of the reported factor or statistic."""
    url = reverse("admin:comparisons_comparison_change", args=[report.comparison_id])
    target = report.target_object
    if target is None:
        return url
    prefix = "factors" if report.target == AccuracyReport.Target.FACTOR else "statistics"
    # The admin numbers inline rows in their model's order (Meta.ordering).
    rows = [row.pk for row in getattr(report.comparison, prefix).all()]
    return f"{url}#{prefix}-{rows.index(target.pk)}" if target.pk in rows else url


def live_url(report):
    target = report.target_object
    anchor = f"#{report.target}-{target.pk}" if target is not None else ""
    return report.comparison.get_absolute_url() + anchor


@admin.register(AccuracyReport)
class AccuracyReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "status", "about", "comparison", "excerpt", "live_page", "reply"]
    list_display_links = ["created_at"]
    list_filter = ["status", "target"]
    list_select_related = ["comparison", "factor", "statistic", "resolved_by"]
    search_fields = ["text", "target_label", "comparison__title"]
    date_hierarchy = "created_at"
    actions = ["accept", "dismiss"]
    fields = [
        "comparison",
        "about",
        "live_page",
        "text",
        "source_link",
        "email",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                *(Prefetch(f"comparison__{name}", queryset=ROW_ORDER[name]) for name in ROW_ORDER)
            )
        )

    def has_add_permission(self, request):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The page's Accept and Dismiss buttons; anything else is the read-only page."""
        verdict = next((name for name in ("_accept", "_dismiss") if name in request.POST), None)
        if request.method == "POST" and object_id and verdict:
            report = self.get_object(request, object_id)
            if report is None or not self.has_change_permission(request, report):
                raise PermissionDenied
            status = (
                AccuracyReport.Status.ACCEPTED
                if verdict == "_accept"
                else AccuracyReport.Status.DISMISSED
            )
            self.resolve(request, [report], status)
            return HttpResponseRedirect(reverse("admin:comparisons_accuracyreport_changelist"))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def resolve(self, request, reports, status):
        resolved = sum(
            resolve_report(report_pk=report.pk, status=status, by=request.user) is not None
            for report in reports
        )
        skipped = len(reports) - resolved
        if status == AccuracyReport.Status.ACCEPTED:
            parts = [
                ngettext("Accepted %(count)d report.", "Accepted %(count)d reports.", resolved)
                % {"count": resolved}
            ]
            if resolved:
                parts.append(
                    ngettext(
                        "Its comparison now shows as needing review.",
                        "Their comparisons now show as needing review.",
                        resolved,
                    )
                )
        else:
            parts = [
                ngettext("Dismissed %(count)d report.", "Dismissed %(count)d reports.", resolved)
                % {"count": resolved}
            ]
        if skipped:
            parts.append(
                ngettext(
                    "%(count)d had been resolved already and did not change.",
                    "%(count)d had been resolved already and did not change.",
                    skipped,
                )
                % {"count": skipped}
            )
        message = " ".join(parts)
        self.message_user(request, message, messages.SUCCESS if resolved else messages.WARNING)

    @admin.action(
        description=_("Accept selected reports (the page needs review)"), permissions=["change"]
    )
    def accept(self, request, queryset):
        self.resolve(request, list(queryset), AccuracyReport.Status.ACCEPTED)

    @admin.action(description=_("Dismiss selected reports"), permissions=["change"])
    def dismiss(self, request, queryset):
        self.resolve(request, list(queryset), AccuracyReport.Status.DISMISSED)

    @admin.display(description=_("about"), ordering="target_label")
    def about(self, report):
        removed = " (since removed)" if report.target_object is None else ""
        return format_html(
            '<a href="{}">{}{}</a>', admin_row_url(report), report.target_label, removed
        )

    @admin.display(description=_("report"))
    def excerpt(self, report):
        return Truncator(report.text).chars(120)

    @admin.display(description=_("live page"))
    def live_page(self, report):
        if not report.comparison.is_public:
            return gettext("Not public now")
        # No visually hidden text here: the admin's absolutely positioned
        # .visually-hidden widens a scrolled changelist on a phone.
        return format_html('<a href="{}">{}</a>', live_url(report), gettext("View on site"))

    @admin.display(description=_("source link"))
    def source_link(self, report):
        if not report.source_url:
            return "-"
        return format_html(
            '<a href="{}" rel="noopener nofollow noreferrer">{}</a>',
            report.source_url,
            report.source_url,
        )

    @admin.display(description=_("reply"))
    def reply(self, report):
        """Whether the reader waits for the one reply (the address is erased once sent)."""
        if not report.is_open:
            return "-"
        return gettext("Wanted: sent when resolved") if report.email else gettext("Not asked for")
