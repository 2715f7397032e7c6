"""Public booking pages, the visitor's cancel link, and the staff report."""

import csv
import logging

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from compare_site.clients import client_ip
from compare_site.validators import validate_no_control_characters
from comparisons.models import Comparison

from . import abuse, invitations, services
from .forms import BookingForm
from .models import ConsultationRequest, PendingAddition
from .reports import build_report

logger = logging.getLogger(__name__)
SESSION_KEY = "consultation_references"
TOPIC_MAX_LENGTH = ConsultationRequest._meta.get_field("topic").max_length


@never_cache
def book(request):
    """The booking form; a valid booking redirects to its confirmation page.

    Never cached: each copy carries its own CSRF token and signed render token.
    """
    if request.method != "POST":
        form = BookingForm(initial=prefilled(request))
        return render(request, "consultations/book.html", {"form": form})
    form = BookingForm(request.POST)
    if form.is_automated:
        # Silent: a bot learns nothing from the answer.
        logger.info("Booking form rejected as automated.")
        return redirect("consultations:thanks")
    status = 400
    ip = client_ip(request)
    # A form that must be sent again (it says why) does not count against the limit.
    if not form.needs_resending and abuse.ip_over_limit(ip):
        form.add_error(
            None, "Too many bookings from your network this hour. Please try again later."
        )
        status = 429
    elif form.is_valid():
        if abuse.email_over_limit(form.cleaned_data["email"]):
            form.add_error(
                None, "Too many bookings for this email address this hour. Please try again later."
            )
            status = 429
        else:
            try:
                # One transaction for the booking and the visitor's new session.
                with transaction.atomic():
                    booking = services.book_consultation(
                        fields=form.request_fields(),
                        windows=form.windows_utc,
                        client_ip=ip,
                        form_nonce=form.cleaned_data["rendered"],
                        own_references=request.session.get(SESSION_KEY, []),
                    )
                    response = booked(request, booking)
            except services.FormAlreadySent:
                # The same form sent twice at once: the other copy booked.
                form.ask_to_send_again(abuse.RenderToken.SPENT)
            else:
                return response
    return render(request, "consultations/book.html", {"form": form}, status=status)


def prefilled(request):
    """What links may fill in: ``?comparison=<slug>`` from a comparison's call to
    action, ``?topic=`` from the compare picker ("PyTorch vs JAX"). A slug that
    is not a published comparison, or a topic the form would refuse, is ignored."""
    initial = {}
    slug = request.GET.get("comparison", "")
    comparison = Comparison.objects.published().filter(slug=slug).first() if slug else None
    if comparison is not None:
        initial["comparison"] = comparison.title
    topic = " ".join(request.GET.get("topic", "").split())
    try:
        validate_no_control_characters(topic)
    except ValidationError:
        topic = ""
    if topic and len(topic) <= TOPIC_MAX_LENGTH:
        initial["topic"] = topic
    return initial


def booked(request, booking):
    """Where a booking's visitor goes next, in a session with a new key.

    The key changes at every booking, so a session cookie planted in the
    visitor's browser beforehand never becomes one that shows their request.
    """
    consultation = booking.request
    if not booking.is_repeat:
        references = request.session.get(SESSION_KEY, [])
        request.session[SESSION_KEY] = [*references[-9:], consultation.reference]
    # Last: the new session's row is written here, with the references in it
    # (the session middleware then has nothing more to write).
    request.session.cycle_key()
    if booking.awaiting_owner:
        # Not this browser's request: say nothing about it, not even its reference.
        return redirect("consultations:check_email")
    if booking.is_repeat:
        return redirect("consultations:repeat", reference=consultation.reference)
    return redirect(consultation)


@never_cache
def request_detail(request, reference):
    """The confirmation page; the summary only for the browser that sent the request."""
    consultation = get_object_or_404(
        ConsultationRequest.objects.select_related("comparison").prefetch_related("windows"),
        reference=reference,
    )
    owner = reference in request.session.get(SESSION_KEY, [])
    return render(
        request,
        "consultations/request.html",
        {
            "consultation": consultation,
            "owner": owner,
            "windows": list(consultation.windows.all()) if owner else [],
        },
    )


def repeat(request, reference):
    """Told politely that an open request already exists (no details shown)."""
    consultation = get_object_or_404(ConsultationRequest, reference=reference)
    return render(request, "consultations/repeat.html", {"consultation": consultation})


def check_email(request):
    """After a booking with the address of someone else's open request: nothing about it."""
    return render(request, "consultations/check_email.html")


def signed_link_page(request, template, state, *, act=None, **context):
    """The page behind an emailed signed link, in ``state`` ("invalid" is a 404).

    GET shows it; a POST while the state is "confirm" does ``act()`` and comes
    back to the link, so a reload never does it twice.
    """
    if state == "confirm" and request.method == "POST":
        act()
        return redirect(request.path)
    status = 404 if state == "invalid" else 200
    return render(request, template, {"state": state, **context}, status=status)


@never_cache
def confirm_addition(request, token):
    """The emailed link: GET asks the address's owner to confirm, POST adds the booking once."""
    template = "consultations/confirm_addition.html"
    try:
        pending_pk = services.read_addition_token(token)
    except signing.BadSignature:
        return signed_link_page(request, template, "invalid")
    pending = PendingAddition.objects.select_related("request").filter(pk=pending_pk).first()

    def add():
        if services.confirm_addition(pending_pk=pending_pk) is not None:
            messages.success(request, "Thank you: we added it to your request.")

    if pending is None:
        state = "done"
    elif not pending.request.is_open:
        state = "closed"
    else:
        state = "confirm"
    return signed_link_page(request, template, state, act=add, pending=pending)


def thanks(request):
    return render(request, "consultations/thanks.html")


def privacy(request):
    return render(request, "consultations/privacy.html")


@never_cache
def cancel(request, token):
    """The visitor's signed link: GET asks to confirm, POST cancels the slot."""
    template = "consultations/cancel.html"
    try:
        reference, slot = invitations.read_cancel_token(token)
    except signing.BadSignature:
        return signed_link_page(request, template, "invalid")
    consultation = get_object_or_404(ConsultationRequest, reference=reference)

    def cancel_slot():
        invitations.cancel_by_visitor(consultation=consultation)
        messages.success(request, "Your consultation slot is cancelled. We will be in touch.")

    current = (
        consultation.status == ConsultationRequest.Status.SCHEDULED
        and consultation.scheduled_start.isoformat() == slot
    )
    if not current:
        state = "gone"
    elif consultation.scheduled_start <= timezone.now():
        state = "past"
    else:
        state = "confirm"
    return signed_link_page(request, template, state, act=cancel_slot, consultation=consultation)


@staff_member_required
@permission_required("consultations.view_report", raise_exception=True)
def report(request):
    """Response figures for staff, as a page with an SVG chart or as CSV."""
    data = build_report(ConsultationRequest.objects.all(), now=timezone.now())
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consultation-report.csv"'
        csv.writer(response).writerows(data.csv_rows())
        return response
    return render(request, "consultations/report.html", {"report": data})
