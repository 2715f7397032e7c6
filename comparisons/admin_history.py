"""The comparison admin's history pages, and who may publish.

Every save is a django-reversion revision. The history page lists them with
links to a readable difference between any two (or one and the page now).
Restoring a version goes through a confirmation page naming exactly that
version and showing what restoring it would change on the page as it is now.
ComparisonAdmin builds on this class; the publish permission lives here
because recovering a deleted comparison may bring it back published.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods
from reversion.admin import VersionAdmin
from reversion.models import Version

from .history import (
    restore_preview,
    restore_version,
    restored_message,
    version_diff,
    version_name,
)
from .models import Comparison


class ComparisonHistoryAdmin(VersionAdmin):
    """Versions of a comparison: listed, compared and restored whole."""

    def has_publish_permission(self, request):
        return request.user.has_perm("comparisons.publish_comparison")

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

    def _history_context(self, request, comparison, title):
        """What the diff and restore pages share with the admin's own pages."""
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": comparison,
            "title": title,
            "history_url": reverse("admin:comparisons_comparison_history", args=[comparison.pk]),
        }

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
        """Versions are reviewed as a diff, and restored from its confirmation page."""
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
        # Either version of a pair may be restored; "older" and "newer" tell the two
        # links apart even when both were saved in the same second by the same editor.
        if new is None or new.pk == old.pk:
            restore_choices = [{"version": old, "which": ""}]
        else:
            older, newer = sorted([old, new], key=lambda version: version.pk)
            restore_choices = [
                {"version": older, "which": "older"},
                {"version": newer, "which": "newer"},
            ]
        context = {
            **self._history_context(
                request,
                comparison,
                gettext("Changes to %(comparison)s") % {"comparison": comparison},
            ),
            "old": old,
            "new": new,
            "sections": version_diff(old, new, comparison),
            "can_restore": self.has_change_permission(request, comparison),
            "restore_choices": restore_choices,
        }
        return TemplateResponse(request, "admin/comparisons/comparison/diff.html", context)

    @method_decorator(require_http_methods(["GET", "POST"]))
    def restore_view(self, request, object_id, version_id):
        """Restore one whole version, after a confirmation page showing what it would change.

        GET shows the confirmation; POST (with its CSRF token) restores exactly
        the version in the address: the comparison with its frameworks,
        factors, assessments and statistics.
        """
        comparison = get_object_or_404(Comparison, pk=object_id)
        if not self.has_change_permission(request, comparison):
            raise PermissionDenied
        version = get_object_or_404(self._versions(comparison), pk=version_id)
        if request.method == "GET":
            context = {
                **self._history_context(
                    request,
                    comparison,
                    gettext("Restore the version saved on %(version)s?")
                    % {"version": version_name(version)},
                ),
                "version": version,
                "sections": restore_preview(comparison, version),
                "is_published": comparison.status == Comparison.Status.PUBLISHED,
            }
            return TemplateResponse(
                request, "admin/comparisons/comparison/restore_confirmation.html", context
            )
        was_published = comparison.status == Comparison.Status.PUBLISHED
        restored = restore_version(comparison, version, user=request.user)
        self.message_user(request, restored_message(version), messages.SUCCESS)
        if was_published and restored.status == Comparison.Status.DRAFT:
            problems = restored.publication_problems()
            self.message_user(
                request, refused_message(restored, problems, saved=True), messages.ERROR
            )
        return redirect("admin:comparisons_comparison_change", restored.pk)


def refused_message(comparison, problems, saved=False):
    """Why a comparison was not published: one message, each problem a link to its place
    on the change page (the field, the frameworks, or the factor's block)."""
    if saved:
        text = ngettext(
            '"{comparison}" was saved as a draft, not published. Fix one thing and publish'
            " again:{problems}",
            '"{comparison}" was saved as a draft, not published. Fix {count} things and'
            " publish again:{problems}",
            len(problems),
        )
    else:
        text = ngettext(
            '"{comparison}" was not published. Fix one thing and publish again:{problems}',
            '"{comparison}" was not published. Fix {count} things and publish again:{problems}',
            len(problems),
        )
    return format_html(
        text,
        comparison=comparison,
        count=len(problems),
        problems=format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                ((problem_link(comparison, problem), problem.text) for problem in problems),
            ),
        ),
    )


def problem_link(comparison, problem):
    """Where on the comparison's change page a publication problem is fixed."""
    url = reverse("admin:comparisons_comparison_change", args=[comparison.pk])
    if problem.factor is not None:
        # Factor blocks are numbered in the inline's order, which is the factors' order.
        index = list(comparison.factors.values_list("pk", flat=True)).index(problem.factor.pk)
        return f"{url}#factors-{index}"
    if problem.field == "participants":
        return f"{url}#participants-group"
    return f"{url}#id_{problem.field}"
