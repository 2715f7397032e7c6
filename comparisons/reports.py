"""
Readers' "is this still accurate?" reports: sending one, and an editor resolving it.

A report is about one published factor or one visible statistic. It is sent
through a page of its own (views.report_factor, views.report_statistic), never
through the cached comparison page, and it is guarded as the booking form is
(consultations.forms.HumanCheckForm, consultations.abuse): honeypot, fill time,
one use per form shown, an hourly limit per client address. Nothing a reader
writes is ever published.

Resolving (accept or dismiss) happens once, from "open" only: a reader who left
an email gets exactly one reply, queued through the consultations outbox, and
their email and address are erased with it. Accepting asks for a review of the
page (Comparison.review_requested_at), which "Mark reviewed" answers.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from consultations import abuse
from consultations.models import ANONYMISED_EMAIL, OutgoingEmail, SpentFormToken
from consultations.outbox import queue_email, site_url

from .models import AccuracyReport, Comparison


class FormAlreadySent(Exception):
    """The report form's render token was spent already (sent twice at once)."""


def ip_over_limit(ip):
    """More than ACCURACY_REPORTS_PER_IP_HOUR reports from this address this hour."""

    def sent_from_ip_since(since):
        return AccuracyReport.objects.filter(client_ip=ip, created_at__gt=since).count()

    return abuse.over_hourly_limit(
        f"report-ip:{ip or 'unknown'}", settings.ACCURACY_REPORTS_PER_IP_HOUR, sent_from_ip_since
    )


@transaction.atomic
def submit_report(
    *,
    comparison,
    target,
    text,
    source_url="",
    email="",
    client_ip=None,
    form_nonce=None,
    language=settings.LANGUAGE_CODE,
):
    """Save a reader's report on ``target`` (a Factor or a Statistic of ``comparison``),
    sent from a page in ``language`` (the reply to the reader is written in it).

    ``form_nonce``, the render token's random part, is spent in the same
    transaction; one spent before raises FormAlreadySent and nothing is saved.
    """
    if form_nonce is not None:
        try:
            with transaction.atomic():
                SpentFormToken.objects.create(nonce=form_nonce)
        except IntegrityError:
            raise FormAlreadySent from None
    kind = (
        AccuracyReport.Target.FACTOR
        if target._meta.model_name == "factor"
        else AccuracyReport.Target.STATISTIC
    )
    return AccuracyReport.objects.create(
        comparison=comparison,
        target=kind,
        factor=target if kind == AccuracyReport.Target.FACTOR else None,
        statistic=target if kind == AccuracyReport.Target.STATISTIC else None,
        target_label=AccuracyReport.label_for(target),
        text=text,
        source_url=source_url,
        email=email,
        client_ip=client_ip,
        language=language,
    )


def resolve_report(*, report_pk, status, by, now=None):
    """Accept or dismiss an open report; the resolved report, or None if it was not open.

    The row is locked (select_for_update) and the change is conditional on
    "open", so two editors clicking at once resolve it once and the reader's
    reply is queued once, in the same transaction.
    """
    if status not in (AccuracyReport.Status.ACCEPTED, AccuracyReport.Status.DISMISSED):
        raise ValueError(f"A report is resolved as accepted or dismissed, not {status!r}.")
    now = now or timezone.now()
    with transaction.atomic():
        report = (
            AccuracyReport.objects.select_for_update()
            .filter(pk=report_pk, status=AccuracyReport.Status.OPEN)
            .first()
        )
        if report is None:
            return None
        changed = (
            AccuracyReport.objects.open()
            .filter(pk=report.pk)
            .update(status=status, resolved_at=now, resolved_by=by, email="", client_ip=None)
        )
        if not changed:
            return None
        comparison = Comparison.objects.get(pk=report.comparison_id)
        if status == AccuracyReport.Status.ACCEPTED:
            # An update, not a save: the public page does not change, so its cache stays.
            Comparison.objects.filter(pk=comparison.pk).update(review_requested_at=now)
        if report.email:
            # The reader's language, its link included, whatever the editor's admin runs in.
            with translation.override(report.language):
                page_url = site_url(comparison.get_absolute_url())
            queue_email(
                to=[report.email],
                template="report_resolved",
                context={
                    "comparison": comparison,
                    "report": report,
                    "accepted": status == AccuracyReport.Status.ACCEPTED,
                    "page_url": page_url,
                },
                language=report.language,
            )
    report.refresh_from_db()
    return report


def forget_readers_past_retention(*, days=None, now=None):
    """Erase what is kept about readers once CONSULTATION_RETENTION_DAYS have passed:
    the email and address of reports still open, and the recipient and text of
    the replies in the outbox (every outgoing email tied to no consultation
    request, replies to readers among them). The reports themselves stay.
    Returns both counts. Part of the daily retention run (consultations.tasks)."""
    days = settings.CONSULTATION_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    reports = (
        AccuracyReport.objects.filter(created_at__lt=cutoff)
        .exclude(email="", client_ip=None)
        .update(email="", client_ip=None)
    )
    emails = (
        OutgoingEmail.objects.filter(request=None, created_at__lt=cutoff)
        .exclude(to=ANONYMISED_EMAIL)
        .anonymise()
    )
    return reports, emails
