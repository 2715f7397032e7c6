"""The readers' report pages: one per factor or statistic, and the thank-you page.

Never part of the cached comparison page: each form carries its own CSRF token
and signed render token, so these pages are never cached (the comparison page
only links here). A comparison that is not public, or a factor or statistic
not on its public page, is 404.
"""

import logging

from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache

from compare_site.clients import client_ip
from consultations.abuse import RenderToken

from . import reports
from .models import Comparison
from .report_forms import AccuracyReportForm

logger = logging.getLogger(__name__)


def public_comparison(slug):
    return get_object_or_404(
        Comparison.objects.published().prefetch_related("participants__framework"), slug=slug
    )


@never_cache
def report_factor(request, slug, pk):
    """Report a factor: its assessments and winner are shown above the form."""
    comparison = public_comparison(slug)
    factor = get_object_or_404(
        comparison.factors.prefetch_related("assessments").select_related("winner__framework"),
        pk=pk,
    )
    participants = list(comparison.participants.all())
    context = {"factor": factor, "cells": factor.assessment_cells(participants)}
    return report_page(request, comparison, factor, context)


@never_cache
def report_statistic(request, slug, pk):
    """Report a statistic: only one visitors can see (complete), with its source."""
    comparison = public_comparison(slug)
    statistic = get_object_or_404(comparison.statistics.complete(), pk=pk)
    return report_page(request, comparison, statistic, {"statistic": statistic})


def report_page(request, comparison, target, context):
    """The form; a valid report redirects to the thank-you page (POST-redirect-GET)."""
    status = 200
    if request.method != "POST":
        form = AccuracyReportForm()
    else:
        form = AccuracyReportForm(request.POST)
        if form.is_automated:
            # Silent, as the booking form: a bot learns nothing from the answer.
            logger.info("Accuracy report rejected as automated.")
            return redirect("comparisons:report_thanks", slug=comparison.slug)
        status = 400
        ip = client_ip(request)
        if not form.needs_resending and reports.ip_over_limit(ip):
            form.add_error(
                None,
                gettext("Too many reports from your network this hour. Please try again later."),
            )
            status = 429
        elif form.is_valid():
            try:
                reports.submit_report(
                    comparison=comparison,
                    target=target,
                    text=form.cleaned_data["text"],
                    source_url=form.cleaned_data["source_url"],
                    email=form.cleaned_data["email"],
                    client_ip=ip,
                    form_nonce=form.cleaned_data["rendered"],
                    language=get_language(),
                )
            except reports.FormAlreadySent:
                form.ask_to_send_again(RenderToken.SPENT)
            else:
                return redirect("comparisons:report_thanks", slug=comparison.slug)
    context = {**context, "comparison": comparison, "target": target, "form": form}
    return render(request, "comparisons/report.html", context, status=status)


def report_thanks(request, slug):
    """After a report: thanks, and nothing of what was sent."""
    comparison = public_comparison(slug)
    return render(request, "comparisons/report_thanks.html", {"comparison": comparison})
