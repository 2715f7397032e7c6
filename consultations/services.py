"""
Writes that span several models: a booking and its confirmed additions, a
staff reply, the due warnings and the apology for a missed reply-by time, the
retention run and an erasure, with who on the staff hears of a request, and
the signed link to the visitor's status page. Each write runs in one
transaction, and the email it causes is queued in the outbox
(outbox.queue_email) inside it. Slots and their invitations are in
invitations.py.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from comparisons.models import AccuracyReport

from .models import (
    ADDITION_LINK_MAX_AGE,
    WARN_BEFORE_HOURS,
    AuditEvent,
    ConsultationRequest,
    DueWarning,
    OutgoingEmail,
    PendingAddition,
    PreferredWindow,
    SpentFormToken,
    StaffTimezone,
    format_local,
    format_short,
    normalise_email,
    sign_in_records,
)
from .outbox import queue_email, queue_emails, render_emails, site_url
from .slots import hold_slots

logger = logging.getLogger(__name__)
TRIAGE_GROUP = "Triage"
DUPLICATE_WINDOW = timedelta(days=7)
ADDITION_SALT = "consultations.confirm-addition"
STATUS_SALT = "consultations.status-page"


class FormAlreadySent(Exception):
    """The booking form's render token has booked once already."""


@dataclass(frozen=True)
class Booking:
    request: ConsultationRequest
    # True when the visitor already had an open request: nothing new was saved.
    is_repeat: bool
    # True when that request is not this browser's: its address was emailed a
    # link to confirm the addition, and the visitor must be told nothing about it.
    awaiting_owner: bool = False


def triage_recipients():
    """TRIAGE_EMAIL when set, otherwise the active members of the Triage group."""
    if settings.CONSULTATION_TRIAGE_EMAIL:
        return [settings.CONSULTATION_TRIAGE_EMAIL]
    users = get_user_model().objects.filter(groups__name=TRIAGE_GROUP, is_active=True, email__gt="")
    recipients = sorted(set(users.values_list("email", flat=True)))
    if not recipients:
        logger.warning("Nobody to notify: set TRIAGE_EMAIL or give a Triage member an email.")
    return recipients


def staff_recipients(consultation):
    """Who on the staff hears about this request: its assignee, else triage."""
    assignee = consultation.assignee
    return [assignee.email] if assignee and assignee.email else triage_recipients()


def admin_url(consultation):
    """The request's page in the admin, as a link in a staff email."""
    return site_url(
        reverse("admin:consultations_consultationrequest_change", args=[consultation.pk])
    )


def status_token(consultation):
    """The signed token of the visitor's private status page: it names the request and
    cannot be made without SECRET_KEY. It does not expire: the page is the request's."""
    return signing.dumps(consultation.reference, salt=STATUS_SALT)


def read_status_token(token):
    """The reference a status token names; raises signing.BadSignature when forged."""
    return signing.loads(token, salt=STATUS_SALT)


def status_links(consultation):
    """The visitor's links, absolute, for emails: the status page, cancel and reschedule."""
    token = status_token(consultation)
    return {
        "status_url": site_url(reverse("consultations:status", args=[token])),
        "cancel_url": site_url(reverse("consultations:status_cancel", args=[token])),
        "reschedule_url": site_url(reverse("consultations:status_reschedule", args=[token])),
    }


def queue_visitor_email(consultation, *, template, context, ics=""):
    """An email to the visitor about their request, in the request's thread and
    their language (its links too; callers format the times in ``context`` under
    ``translation.override(consultation.language)``)."""
    with translation.override(consultation.language):
        links = status_links(consultation)
    return queue_email(
        to=[consultation.email],
        template=template,
        context={"request": consultation, **links, **context},
        request=consultation,
        ics=ics,
        in_reply_to=consultation.thread_root(),
        language=consultation.language,
    )[0]


def open_request_for(email, now):
    """The visitor's open request from the last 7 days, if any."""
    return (
        ConsultationRequest.objects.open()
        .filter(email__iexact=normalise_email(email), received_at__gte=now - DUPLICATE_WINDOW)
        .order_by("-received_at")
        .first()
    )


@transaction.atomic
def book_consultation(
    *,
    fields,
    windows,
    client_ip=None,
    form_nonce=None,
    own_references=(),
    now=None,
    free=None,
    expected_reply_at=None,
):
    """Save a booking with its windows and queue the visitor's and the staff's emails.

    ``fields`` are the ConsultationRequest fields the visitor filled in, as
    BookingForm cleaned them, ``windows`` their preferred slot starts in UTC. The same email with an
    open request from the last 7 days saves nothing new. If that request is
    one of ``own_references`` (this browser sent it), the repeat is noted on
    its audit trail; otherwise anyone could be typing that address, so the
    note waits as a PendingAddition and the address is emailed a link that
    confirms it (confirm_addition). ``form_nonce``, the render token's random
    part, is spent in the same transaction; a nonce spent before raises
    FormAlreadySent and nothing is saved.

    With ``free`` (slots.free_slots()), the windows are free slots the visitor
    picked: each is held for one consultant (slots.hold_slots), and a slot
    someone else took meanwhile raises models.SlotTaken with nothing saved.
    ``expected_reply_at`` is the honest estimate the visitor was shown, when
    later than the promise (capacity.py).
    """
    now = now or timezone.now()
    if form_nonce is not None:
        # No savepoint of its own: FormAlreadySent leaves this function's atomic
        # block, whose savepoint (or transaction) undoes the refused INSERT.
        try:
            SpentFormToken.objects.create(nonce=form_nonce, used_at=now)
        except IntegrityError:
            raise FormAlreadySent from None
    existing = open_request_for(fields["email"], now)
    if existing is not None:
        slots = ", ".join(f"{start:%Y-%m-%d %H:%M} UTC" for start in windows)
        note = (
            f"The visitor booked again on {now:%Y-%m-%d %H:%M} UTC "
            f"(preferred: {slots}):\n{fields['message']}"
        )
        if existing.reference in own_references:
            existing.add_note(note, by=None)
            return Booking(request=existing, is_repeat=True)
        pending = PendingAddition.objects.create(
            request=existing, note=note, created_at=now, client_ip=client_ip
        )
        with translation.override(existing.language):
            received = format_local(now, existing.timezone)
        queue_email(
            to=[existing.email],
            template="confirm_addition",
            context={
                "request": existing,
                "received": received,
                "confirm_url": site_url(
                    reverse("consultations:confirm_addition", args=[addition_token(pending)])
                ),
                "link_days": ADDITION_LINK_MAX_AGE.days,
            },
            request=existing,
            language=existing.language,
        )
        return Booking(request=existing, is_repeat=True, awaiting_owner=True)

    # No full_clean(): the form validated the fields, and re-checking each
    # constraint and the reference's uniqueness took a query apiece. The
    # database's constraints still refuse a row that breaks one.
    consultation = ConsultationRequest(
        received_at=now, client_ip=client_ip, expected_reply_at=expected_reply_at, **fields
    )
    consultation.save(force_insert=True)
    windows = PreferredWindow.objects.bulk_create(
        PreferredWindow(request=consultation, starts_at=start) for start in sorted(windows)
    )
    if free is not None:
        hold_slots(consultation=consultation, starts=[w.starts_at for w in windows], free=free)
    # The visitor's times and links in the visitor's language (their emails' language).
    with translation.override(consultation.language):
        context = {
            "request": consultation,
            "windows": windows,
            "respond_by": consultation.respond_by_local(),
            "expected_reply": consultation.expected_reply_local(),
            "admin_url": admin_url(consultation),
            **status_links(consultation),
        }
    # The confirmation is the thread's first email: later ones answer its
    # Message-ID (thread_root). Both emails go in one INSERT.
    queue_emails(
        [
            *render_emails(
                to=[consultation.email],
                template="confirmation",
                context=context,
                request=consultation,
                language=consultation.language,
            ),
            *render_emails(
                to=triage_recipients(), template="staff_new", context=context, request=consultation
            ),
        ]
    )
    return Booking(request=consultation, is_repeat=False)


def addition_token(pending):
    """A signed link token that confirms one PendingAddition."""
    return signing.dumps(pending.pk, salt=ADDITION_SALT)


def read_addition_token(token):
    """The PendingAddition a token names; raises signing.BadSignature (or its
    SignatureExpired) when forged or older than ADDITION_LINK_MAX_AGE."""
    return signing.loads(token, salt=ADDITION_SALT, max_age=ADDITION_LINK_MAX_AGE)


@transaction.atomic
def confirm_addition(*, pending_pk):
    """The address's owner confirmed: add the note to their request, once.

    Returns the request, or None when there is nothing (left) to add: the
    row is deleted as it is applied, under a row lock, so a second click or
    a second worker adds nothing.
    """
    pending = (
        PendingAddition.objects.select_for_update()
        .select_related("request")
        .filter(pk=pending_pk)
        .first()
    )
    if pending is None or not pending.request.is_open:
        return None
    pending.request.add_note(
        f"{pending.note}\n(Confirmed by the address's owner from the emailed link.)", by=None
    )

    pending.delete()
    return pending.request


@transaction.atomic
def reply_to_visitor(*, consultation, text, by):
    """Staff write to the visitor from the request: the email goes out through the outbox
    in the request's thread, the audit trail keeps the text, and the first reply
    stops the clock (ConsultationRequest.record_first_response)."""
    consultation.mark_contacted(by=by, note=text, kind=AuditEvent.Kind.REPLY)
    return queue_visitor_email(
        consultation, template="reply", context={"text": text, "signature": signature(by)}
    )


def signature(user):
    return user.get_full_name() or "The Compare team"


def warn_due_requests(*, now=None):
    """Queue each due-soon and overdue warning once; returns how many were queued.

    A warning goes to the assignee, or to the triage group when nobody is
    assigned. An overdue request has broken the promise: with its warning the
    visitor gets one apology with a new, concrete reply-by time
    (ConsultationRequest.record_breach), in the same transaction. The
    DueWarning row's unique (request, kind) constraint is what makes a second
    run, or two runs at once, warn nobody and apologise to nobody twice.
    """
    now = now or timezone.now()
    queued = 0
    batches = [
        (DueWarning.Kind.DUE_SOON, ConsultationRequest.objects.due_within(WARN_BEFORE_HOURS, now)),
        (DueWarning.Kind.OVERDUE, ConsultationRequest.objects.overdue(now)),
    ]
    for kind, requests in batches:
        pending = requests.exclude(warnings__kind=kind).select_related("assignee")
        for consultation in pending:
            try:
                with transaction.atomic():
                    DueWarning.objects.create(request=consultation, kind=kind, sent_at=now)
                    if kind == DueWarning.Kind.OVERDUE:
                        apologise(consultation, now=now)
                    queue_email(
                        to=staff_recipients(consultation),
                        template="warning",
                        context={
                            "request": consultation,
                            "kind": DueWarning.Kind(kind).label.lower(),
                            "due": f"{consultation.respond_by:%A %d %B %Y, %H:%M} UTC",
                            "label": consultation.due_label(now),
                            "admin_url": admin_url(consultation),
                            "recovery": recovery_times(consultation),
                        },
                        request=consultation,
                    )
            except IntegrityError:
                continue  # another run warned first
            queued += 1
    return queued


def apologise(consultation, *, now):
    """The promise is broken: record the breach and queue the visitor's apology."""
    consultation.record_breach(now=now)
    with translation.override(consultation.language):  # the worker's is English
        context = {
            "respond_by": consultation.respond_by_local(),
            "recovery_by": format_local(consultation.recovery_by, consultation.timezone),
        }
    queue_visitor_email(consultation, template="apology", context=context)


def recovery_times(consultation):
    """The apology's new time for staff: the visitor's and the recipients' own clocks."""
    if consultation.recovery_by is None:
        return ""
    moment, visitor_tz = consultation.recovery_by, consultation.timezone
    text = f"{format_short(moment, visitor_tz)} (visitor, {visitor_tz})"
    assignee = consultation.assignee
    if assignee is not None:
        own = StaffTimezone.of(assignee)
        text += f" · {format_short(moment, own)} (you, {own})"
    else:
        text += f" · {format_short(moment, 'UTC')} UTC"
    return text


ERASED_NOTE = "Personal data erased at the person's request."


@transaction.atomic
def anonymise_expired(*, days=None, now=None):
    """Anonymise closed requests older than the retention period; returns how many.

    ``days`` defaults to CONSULTATION_RETENTION_DAYS. Only personal data goes:
    the report's figures (statuses and times) stay exactly as they were.
    """
    days = settings.CONSULTATION_RETENTION_DAYS if days is None else days
    expired = list(ConsultationRequest.objects.past_retention(days, now=now).order_by("pk"))
    for consultation in expired:
        consultation.anonymise()
    return len(expired)


def forget_lapsed_booking_records(*, now=None):
    """Delete spent form tokens past their maximum age (refused anyway) and
    additions nobody confirmed before their link lapsed; returns both counts.
    Part of the retention run, from the worker's daily task or the command."""
    forgotten, _ = SpentFormToken.objects.past_max_age(now=now).delete()
    lapsed, _ = PendingAddition.objects.past_link_age(now=now).delete()
    return forgotten, lapsed


@transaction.atomic
def erase_personal_data(*, email, by):
    """A data subject's request: erase what is kept about ``email`` everywhere.

    Their requests are anonymised (an open one is declined first, since it
    can no longer be answered), as are the outgoing emails to that address,
    the reply address on their reports about comparisons, and the sign-in
    records (django-axes) kept under it as a username. The audit trail records
    that an erasure happened, and by whom, without any of the data. Returns
    the number of requests erased.
    """
    email = email.strip()
    requests = list(ConsultationRequest.objects.filter(email__iexact=email).order_by("pk"))
    for consultation in requests:
        if consultation.is_open:
            consultation.transition(ConsultationRequest.Status.DECLINED, by=by)
        consultation.anonymise()
        consultation.add_note(ERASED_NOTE, by=by)
    OutgoingEmail.objects.filter(to__iexact=email).anonymise()
    AccuracyReport.objects.filter(email__iexact=email).update(email="", client_ip=None)
    for records in sign_in_records(email):
        records.delete()
    return len(requests)
