"""Public booking pages, the visitor's status page and its cancel and reschedule
links, the invitation's cancel link, and the staff report."""

import csv
import logging
from datetime import datetime

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache

from compare_site.clients import client_ip
from compare_site.validators import validate_no_control_characters
from comparisons.models import Comparison

from . import abuse, capacity, invitations, services, slots
from .forms import BookingForm, NewTimesForm
from .models import (
    AuditEvent,
    ConsultationRequest,
    PendingAddition,
    SlotTaken,
    format_local,
    offered_timezone_names,
)
from .reports import build_report

logger = logging.getLogger(__name__)
SESSION_KEY = "consultation_references"
TOPIC_MAX_LENGTH = ConsultationRequest._meta.get_field("topic").max_length


@never_cache
def book(request):
    """The booking form; a valid booking redirects to its confirmation page.

    Never cached: each copy carries its own CSRF token and signed render token.
    When consultants publish hours, the visitor picks free slots; "Show the
    times in this timezone" shows the form again in the timezone chosen, as typed.
    """
    free = slots.free_slots()
    promise = capacity.promise_for()
    if request.method != "POST":
        form = BookingForm(initial=prefilled(request), free=free, promise=promise)
        return render(request, "consultations/book.html", {"form": form})
    if "show_times" in request.POST:
        form = BookingForm(initial=as_typed(request.POST), free=free, promise=promise)
        return render(request, "consultations/book.html", {"form": form})
    form = BookingForm(request.POST, free=free, promise=promise)
    if form.is_automated:
        # Silent: a bot learns nothing from the answer.
        logger.info("Booking form rejected as automated.")
        return redirect("consultations:thanks")
    status = 400
    ip = client_ip(request)
    # A form that must be sent again (it says why) does not count against the limit.
    if not form.needs_resending and abuse.ip_over_limit(ip):
        form.add_error(
            None, gettext("Too many bookings from your network this hour. Please try again later.")
        )
        status = 429
    elif form.is_valid():
        if abuse.email_over_limit(form.cleaned_data["email"]):
            form.add_error(
                None,
                gettext(
                    "Too many bookings for this email address this hour. Please try again later."
                ),
            )
            status = 429
        else:
            try:
                # One transaction for the booking and the visitor's new session.
                with transaction.atomic():
                    booking = services.book_consultation(
                        # The page's language, which every email to the visitor uses.
                        fields={**form.request_fields(), "language": get_language()},
                        windows=form.windows_utc,
                        client_ip=ip,
                        form_nonce=form.cleaned_data["rendered"],
                        own_references=request.session.get(SESSION_KEY, []),
                        free=free if form.offers_slots else None,
                        expected_reply_at=promise.expected if promise.is_late else None,
                    )
                    response = booked(request, booking)
            except services.FormAlreadySent:
                # The same form sent twice at once: the other copy booked.
                form.ask_to_send_again(abuse.RenderToken.SPENT)
            except SlotTaken as taken:
                # Another visitor's booking took the slot first; nothing was saved.
                form.slot_taken(taken.args[0], slots.free_slots())
                status = 409
            else:
                return response
    if form.has_error("slots", code="invalid_choice"):
        status = 409  # another booking took it since the form was shown
    return render(request, "consultations/book.html", {"form": form}, status=status)


def as_typed(data):
    """What the visitor typed, to show the form again unchecked (not the hidden fields:
    the form signs a new render token)."""
    initial = {name: data.get(name) for name in data if name not in ("website", "rendered")}
    initial["slots"] = data.getlist("slots")
    return initial


def prefilled(request):
    """What links may fill in: ``?comparison=<slug>`` from a comparison's call to
    action, ``?topic=`` from the compare picker ("PyTorch vs JAX"), and
    ``?timezone=`` (booking.js sets it from the browser, so the slots come in
    the visitor's time). A slug that is not a published comparison, or a topic
    or timezone the form would refuse, is ignored."""
    initial = {}
    if request.GET.get("timezone") in offered_timezone_names():
        initial["timezone"] = request.GET["timezone"]
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


def private_page(response):
    """A page about one person's request: never stored by a browser or proxy, never indexed."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def status_context(consultation, *, links):
    """What the status page and the request page show: the state, the time the visitor
    was promised (in their timezone), what happened so far and, with ``links``, the
    signed cancel and reschedule links. Nothing personal."""
    context = {
        "consultation": consultation,
        "state": consultation.visitor_state(),
        "reply_by": consultation.reply_by_local(),
        "history": [
            (format_local(at, consultation.timezone), text)
            for at, text in consultation.visitor_history()
        ],
        "slot": (
            format_local(consultation.scheduled_start, consultation.timezone)
            if consultation.scheduled_start
            else ""
        ),
    }
    if links:
        token = services.status_token(consultation)
        context["cancel_path"] = reverse("consultations:status_cancel", args=[token])
        context["reschedule_path"] = reverse("consultations:status_reschedule", args=[token])
        context["status_path"] = reverse("consultations:status", args=[token])
    return context


def request_for_page(**lookup):
    return get_object_or_404(
        ConsultationRequest.objects.select_related("comparison").prefetch_related(
            "windows", "events"
        ),
        **lookup,
    )


def request_detail(request, reference):
    """The confirmation page; the summary and the links only for the browser that sent it."""
    consultation = request_for_page(reference=reference)
    owner = reference in request.session.get(SESSION_KEY, [])
    context = {
        **status_context(consultation, links=owner and consultation.is_open),
        "owner": owner,
        "windows": list(consultation.windows.all()) if owner else [],
    }
    return private_page(render(request, "consultations/request.html", context))


def request_from_token(token):
    """The request a status-page token names; Http404 when the token is forged."""
    try:
        reference = services.read_status_token(token)
    except signing.BadSignature:
        raise Http404("Not a valid link.") from None
    return request_for_page(reference=reference)


def status(request, token):
    """The visitor's private status page, from the link in their emails (no session)."""
    consultation = request_from_token(token)
    context = status_context(consultation, links=consultation.is_open)
    return private_page(render(request, "consultations/status.html", context))


def status_cancel(request, token):
    """Cancel from the status link: the booked slot if there is one, else the request.

    The form names what it cancels, so a page left open while staff booked a
    slot cannot withdraw the whole request.
    """
    consultation = request_from_token(token)
    what = cancellable(consultation)
    if request.method == "POST" and what and request.POST.get("what") == what:
        if consultation.status == ConsultationRequest.Status.SCHEDULED:
            invitations.cancel_by_visitor(consultation=consultation)
            messages.success(
                request, gettext("Your consultation slot is cancelled. We will be in touch.")
            )
        else:
            invitations.withdraw_by_visitor(consultation=consultation)
            messages.success(
                request, gettext("Your request is cancelled. Thank you for telling us.")
            )
        return redirect("consultations:status", token=token)
    context = {**status_context(consultation, links=False), "what": what, "token": token}
    return private_page(render(request, "consultations/status_cancel.html", context))


def cancellable(consultation):
    """What the cancel link would cancel now: "slot:<start>", "request", or ""."""
    if consultation.status == ConsultationRequest.Status.SCHEDULED:
        if consultation.scheduled_start <= timezone.now():
            return ""
        return f"slot:{consultation.scheduled_start.isoformat()}"
    return "request" if consultation.is_open else ""


def status_reschedule(request, token):
    """The visitor offers new times: free slots when consultants publish hours (their
    own held slots among them), else typed windows; a booked slot is cancelled and
    staff are told. A slot another booking took answers 409, as on the booking form."""
    consultation = request_from_token(token)
    form = None
    status_code = 200
    if consultation.is_open:
        free = slots.free_slots(keeping=consultation)
        data = request.POST if request.method == "POST" else None
        form = NewTimesForm(data, consultation=consultation, free=free)
        if request.method == "POST":
            status_code = 400
            if form.is_valid():
                try:
                    invitations.new_times_from_visitor(
                        consultation=consultation,
                        starts=form.windows_utc,
                        free=free if form.offers_slots else None,
                    )
                except SlotTaken as taken:
                    # Nothing was saved: show the request as it still is.
                    consultation = form.consultation = request_from_token(token)
                    form.slot_taken(taken.args[0], slots.free_slots(keeping=consultation))
                    status_code = 409
                else:
                    messages.success(
                        request,
                        gettext("Thank you: we have your new times and will confirm one."),
                    )
                    return redirect("consultations:status", token=token)
            elif form.has_error("slots", code="invalid_choice"):
                status_code = 409  # another booking took it since the form was shown
    context = {**status_context(consultation, links=False), "form": form, "token": token}
    response = render(request, "consultations/status_reschedule.html", context, status=status_code)
    return private_page(response)


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
            messages.success(request, gettext("Thank you: we added it to your request."))

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

    current = (
        consultation.status == ConsultationRequest.Status.SCHEDULED
        and consultation.scheduled_start.isoformat() == slot
    )
    if current:
        state = "past" if consultation.scheduled_start <= timezone.now() else "confirm"
    elif consultation.events.filter(kind=AuditEvent.Kind.CANCEL, from_value=slot).exists():
        # This very slot was cancelled (by this link or otherwise): say so, and only that.
        state = "cancelled"
    else:
        state = "gone"
    return signed_link_page(
        request,
        template,
        state,
        act=cancel_slot,
        consultation=consultation,
        slot=format_local(datetime.fromisoformat(slot), consultation.timezone),
        status_path=reverse("consultations:status", args=[services.status_token(consultation)]),
    )


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
