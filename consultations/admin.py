"""
Triage in the admin: a queue ordered by respond_by, due badges, the verbs as
actions, a schedule page, a reply page with saved replies, internal notes and
a read-only audit trail. Reply-by times are shown in the visitor's timezone
and the staff member's own (StaffTimezone, set on the "Your timezone" page).

Every change goes through the model's verbs, so every change is audited and
no status change can skip ALLOWED_TRANSITIONS.
"""

import html
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections, models, transaction
from django.db.models import Q, Value
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from compare_site.validators import validate_no_control_characters

from . import invitations, services, slots
from .forms import ScheduleForm, TimezoneField
from .models import (
    WARN_BEFORE_HOURS,
    ConsultationRequest,
    DueWarning,
    OutgoingEmail,
    PendingAddition,
    SavedReply,
    ScheduledRun,
    SlotHold,
    SlotTaken,
    StaffTimezone,
    TimeOff,
    WorkingHours,
    format_short,
)

Status = ConsultationRequest.Status
# What the visitor gave, shown read-only on the change page.
VISITOR_FIELDS = ["name", "email", "company", "subject", "message", "timezone", "preferred_windows"]
OPEN_STATUSES = ConsultationRequest.OPEN_STATUSES
# Who may triage: the permission the Triage group has and Editors lack.
TRIAGE_PERMISSION = "consultations.change_consultationrequest"


def triagers():
    """Active staff who may triage (through a group, their own permissions or as
    superusers): the only people a request can be assigned to."""
    app_label, codename = TRIAGE_PERMISSION.split(".")
    granted = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    ) | Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    return users.filter(granted | Q(is_superuser=True)).distinct().order_by("username")


def both_times(moment, consultation, user):
    """A moment for staff, labelled twice: "Thu 3 Dec 10:00 (visitor, America/New_York)
    · Thu 3 Dec 16:00 (you, Europe/Berlin)"."""
    own = StaffTimezone.of(user)
    visitor = consultation.timezone
    return (
        f"{format_short(moment, visitor)} (visitor, {visitor}) · "
        f"{format_short(moment, own)} (you, {own})"
    )


class QueueFilter(admin.SimpleListFilter):
    """The queue opens on the requests still being handled, not on years of history."""

    title = _("triage queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (
                "open",
                gettext("Open (%(statuses)s)")
                % {"statuses": ", ".join(str(s.label).lower() for s in OPEN_STATUSES)},
            ),
            ("unassigned", gettext("Unassigned")),
            ("due_soon", DueWarning.Kind.DUE_SOON.label),
            ("overdue", gettext("Overdue")),
            ("visitor_changed", gettext("Visitor cancelled or moved")),
            ("all", gettext("All requests")),
        ]

    def __init__(self, request, params, model, model_admin):
        # Asking for a status (say, spam) means looking beyond the open queue.
        self.status_chosen = "status__exact" in params
        super().__init__(request, params, model, model_admin)

    def value(self):
        return super().value() or ("all" if self.status_chosen else "open")

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "open":
            return queryset.open()
        if self.value() == "unassigned":
            return queryset.unassigned()
        if self.value() == "due_soon":
            return queryset.due_within(WARN_BEFORE_HOURS, now)
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "visitor_changed":
            return queryset.visitor_changed()
        return queryset


class QueuePaginator(Paginator):
    """Counts the matches exactly up to EXACT_COUNT_UP_TO; beyond, PostgreSQL's estimate.

    An exact count of "All requests" at a million rows reads the whole table
    on every page view. The estimate is the planner's row count for the same
    query (EXPLAIN, from the table's statistics), and the page says "about".
    """

    EXACT_COUNT_UP_TO = 10_000
    estimated = False

    @cached_property
    def count(self):
        matches = self.object_list.order_by()
        counted = matches[: self.EXACT_COUNT_UP_TO + 1].count()
        self.estimated = counted > self.EXACT_COUNT_UP_TO
        if self.estimated and connections[matches.db].vendor != "postgresql":
            # SQLite: a development database, small enough to count.
            self.estimated = False
            return matches.count()
        if not self.estimated:
            return counted
        plan = json.loads(matches.explain(format="json"))
        return max(int(plan[0]["Plan"]["Plan Rows"]), counted)


class ConsultationRequestAdminForm(forms.ModelForm):
    note = forms.CharField(
        label=_("Add an internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("For staff only: the visitor never sees notes."),
    )

    class Meta:
        model = ConsultationRequest
        fields = ["status", "assignee"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            self.fields["assignee"].queryset = triagers()

    def clean_status(self):
        new = self.cleaned_data["status"]
        if new == self.instance.status:
            return new
        if new == Status.SCHEDULED:
            raise ValidationError(
                _("Use “Schedule a slot” below to pick the time."), code="use_schedule"
            )
        self.instance.check_transition(new)
        return new


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text=_(
            "Sent by email to the visitor, after “Hello <name>,” and before your "
            "name. The text is kept in the audit trail."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(validate_no_control_characters)


class StaffTimezoneForm(forms.Form):
    # The visitors' field: the same offered names (no legacy aliases), searchable.
    timezone = TimezoneField(
        label=_("Your timezone"),
        help_text=_("Reply-by times are shown in the visitor's timezone and in this one."),
    )


class EraseForm(forms.Form):
    """The address whose data to erase; erasing needs an explicit second step."""

    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        help_text=_("As the person gave it when booking; upper or lower case does not matter."),
    )
    confirm = forms.BooleanField(
        label=_("I have checked that this request comes from the person themselves."),
        required=False,
    )


QUEUE_COLUMNS = [
    "action_checkbox",
    "reference",
    "name",
    "subject",
    "status",
    "assignee",
    "due",
    "reply_by_times",
    "visitor_changed",
    "language",
]


def queue_rows(cl):
    """The queue's table rows as one string: the same HTML as Django's
    items_for_result for ConsultationRequestAdmin.list_display, built with one
    str.format a row (each value escaped as conditional_escape would) from values
    worked out once a page (Django's generic cell
    rendering was about half the page's CPU). Keep it in step with list_display."""
    now = timezone.now()
    empty = conditional_escape(cl.model_admin.get_empty_value_display())
    # One reverse (and the filters to come back to) for the page, the pk put in after.
    change_url = reverse("admin:consultations_consultationrequest_change", args=[0])
    if cl.preserved_filters:
        context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        change_url = add_preserved_filters(context, change_url)
    prefix, suffix = change_url.split("/0/", 1)
    select = gettext("Select this object for an action - {}")
    status_labels = dict(ConsultationRequest.Status.choices)
    language_labels = dict(ConsultationRequest._meta.get_field("language").flatchoices)
    row = (
        '<tr><td class="action-checkbox"><input type="checkbox" name="{}" value="{}"'
        ' class="action-select" aria-label="{}"></td>'
        '<th class="field-reference"><a href="{}">{}</a></th>'
        '<td class="field-name">{}</td><td class="field-subject">{}</td>'
        '<td class="field-status">{}</td><td class="field-assignee nowrap">{}</td>'
        '<td class="field-due">{}</td><td class="field-reply_by_times">{}</td>'
        '<td class="field-visitor_changed">{}</td><td class="field-language">{}</td></tr>'
    )
    esc = _escape
    name = esc(helpers.ACTION_CHECKBOX_NAME)
    rows = []
    for obj in cl.result_list:
        rows.append(
            row.format(
                name,
                esc(obj.pk),
                select.format(esc(str(obj))),
                esc(f"{prefix}/{quote(obj.pk)}/{suffix}"),
                esc(obj.reference) if obj.reference else empty,
                esc(obj.name) if obj.name else empty,
                esc(obj.subject) if obj.subject else empty,
                esc(status_labels.get(obj.status, obj.status) or empty),
                esc(obj.assignee) if obj.assignee_id else empty,
                due_html(obj, now),
                reply_by_html(obj),
                visitor_changed_html(obj) or empty,
                esc(language_labels.get(obj.language, obj.language) or empty),
            )
        )
    # Every value above went through _escape (or is the page's own markup).
    return SafeString("\n".join(rows))


def _escape(value):
    """conditional_escape without its lazy-string wrapper: the same text."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


# The queue's cells that carry markup, one home each: queue_rows puts them in its
# rows, the admin's display methods (the change form, Django's own rendering) mark
# them safe. Each escapes what it is given.


def due_html(obj, now):
    """ "Due in 3 h", "-" when nothing is due, the overdue label in bold."""
    label = obj.due_label(now)
    if obj.is_overdue(now):
        return f"<strong>{_escape(label)}</strong>"
    return _escape(label or "-")


def reply_by_html(obj):
    """The time promised to the visitor, in their timezone and the staff member's."""
    own, visitor = obj.staff_timezone, obj.timezone
    moment = obj.reply_by
    text = gettext("{} <span>(visitor, {})</span> · {} <span>(you, {})</span>").format(
        _escape(format_short(moment, visitor)),
        _escape(visitor),
        _escape(format_short(moment, own)),
        _escape(own),
    )
    if obj.promise_broken:
        return gettext("{} <strong>new time after a missed one</strong>").format(text)
    return text


def visitor_changed_html(obj):
    """When the visitor last cancelled or moved their meeting, in bold; "" if never."""
    if obj.visitor_changed_at is None:
        return ""
    return f"<strong>{obj.visitor_changed_at:%d %b %H:%M} UTC</strong>"


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(admin.ModelAdmin):
    form = ConsultationRequestAdminForm
    list_display = QUEUE_COLUMNS[1:]  # queue_rows renders these rows
    list_filter = [QueueFilter, "status", "assignee", "language"]
    list_select_related = ["assignee", "comparison"]
    search_fields = ["reference", "name", "email", "company"]
    ordering = ["respond_by", "pk"]
    # No date hierarchy and no second, unfiltered count: over 100,000 requests
    # each costs a scan of the whole table on every page view.
    show_full_result_count = False
    paginator = QueuePaginator
    list_per_page = 50
    # The site's, said here: Django looks on the ModelAdmin first, for each cell of
    # the queue (550 a page), and falls back to the site's on an AttributeError.
    empty_value_display = admin.site.empty_value_display
    actions = [
        "assign_to_me",
        "mark_contacted",
        "decline",
        "mark_spam",
        "mark_duplicate",
        "erase_personal_data",
    ]
    readonly_fields = [
        "reference",
        "due",
        "received_at",
        "respond_by",
        "first_response_at",
        "reply_by_times",
        "recovery_by",
        "visitor_changed_at",
        "scheduled_start",
        "meeting_location",
        "schedule_link",
        "reply_link",
        *VISITOR_FIELDS,
        "language",
        "duplicate_of",
        "client_ip",
        "audit_trail",
    ]
    fieldsets = [
        (
            _("Triage"),
            {
                "fields": [
                    "reference",
                    "due",
                    "reply_by_times",
                    ("received_at", "respond_by", "first_response_at"),
                    ("recovery_by", "visitor_changed_at"),
                    "reply_link",
                    "status",
                    "assignee",
                    ("scheduled_start", "schedule_link"),
                    "meeting_location",
                    "note",
                ]
            },
        ),
        (_("From the visitor"), {"fields": [*VISITOR_FIELDS, "language"]}),
        (_("Audit trail"), {"fields": ["audit_trail"]}),
        (_("Other"), {"fields": ["duplicate_of", "client_ip"], "classes": ["collapse"]}),
    ]

    def has_add_permission(self, request):
        return False  # requests come from visitors

    def action_checkbox(self, obj):
        """Django's row checkbox, the same HTML written directly: Django renders a
        CheckboxInput through the form templates, a third of the queue's rows' cost."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    @admin.display(description=_("subject"))
    def subject(self, obj):
        return obj.subject

    @admin.display(description=_("due"))
    def due(self, obj):
        return SafeString(due_html(obj, timezone.now()))

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        cl = context.get("cl") if context else None
        # Popups and any other columns than list_display's keep Django's rendering.
        if cl is not None and not cl.is_popup and list(cl.list_display) == QUEUE_COLUMNS:
            headers = list(admin_list.result_headers(cl))
            context["queue_results"] = {
                "result_headers": headers,
                "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
                "rows": queue_rows(cl),
            }
        return response

    def get_queryset(self, request):
        # The staff member's own timezone rides on each row: ModelAdmin instances are
        # shared by every request, so it must not be kept on self.
        own = Value(StaffTimezone.of(request.user), output_field=models.CharField())
        return super().get_queryset(request).annotate(staff_timezone=own)

    @admin.display(description=_("reply by"), ordering="respond_by")
    def reply_by_times(self, obj):
        return SafeString(reply_by_html(obj))

    @admin.display(description=_("visitor cancelled or moved"), ordering="visitor_changed_at")
    def visitor_changed(self, obj):
        return SafeString(visitor_changed_html(obj))

    @admin.display(description=_("reply"))
    def reply_link(self, obj):
        if not obj.pk or not obj.is_open:
            return "-"
        url = reverse("admin:consultations_consultationrequest_reply", args=[obj.pk])
        return format_html(
            '<a class="button" href="{}">{}</a>', url, gettext("Reply to the visitor")
        )

    @admin.display(description=_("visitor's windows"))
    def preferred_windows(self, obj):
        return format_html_join(
            "",
            gettext("<div>{} UTC ({} for the visitor)</div>"),
            ((f"{w.starts_at:%a %d %b %Y %H:%M}", w.local_label()) for w in obj.windows.all()),
        )

    @admin.display(description=_("schedule"))
    def schedule_link(self, obj):
        if not obj.pk or not obj.is_open:
            return "-"
        url = reverse("admin:consultations_consultationrequest_schedule", args=[obj.pk])
        text = (
            gettext("Change the slot")
            if obj.status == Status.SCHEDULED
            else gettext("Schedule a slot")
        )
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=_("history"))
    def audit_trail(self, obj):
        return render_to_string(
            "admin/consultations/consultationrequest/audit_trail.html",
            {"events": list(obj.events.select_related("actor"))},
        )

    def save_model(self, request, obj, form, change):
        """Apply the form's changes through the verbs, so each one is audited."""
        new_status, new_assignee = obj.status, obj.assignee
        obj.refresh_from_db()
        if new_assignee != obj.assignee:
            obj.assign(to=new_assignee, by=request.user)
        if (
            new_status != obj.status
            and obj.status == Status.SCHEDULED
            and new_status
            in (
                Status.CONTACTED,
                Status.DECLINED,
            )
        ):
            # The slot no longer holds: the visitor's calendar gets the cancellation.
            invitations.cancel_by_staff(consultation=obj, by=request.user, to=new_status)
        elif new_status != obj.status:
            obj.transition(new_status, by=request.user)
        note = form.cleaned_data.get("note", "").strip()
        if note:
            obj.add_note(note, by=request.user)

    # Actions: each request is handled on its own; refusals are reported, not fatal.

    def _apply(self, request, queryset, verb, done):
        changed = 0
        for consultation in queryset:
            try:
                verb(consultation)
            except ValidationError as error:
                self.message_user(
                    request, f"{consultation.reference}: {error.messages[0]}", messages.ERROR
                )
            else:
                changed += 1
        if changed:
            # ``done`` is an ngettext_lazy message counting "count".
            self.message_user(request, done % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: c.assign(to=request.user, by=request.user),
            ngettext_lazy(
                "Assigned to you: %(count)d request.",
                "Assigned to you: %(count)d requests.",
                "count",
            ),
        )

    @admin.action(description=_("Mark contacted (first response)"), permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: c.mark_contacted(by=request.user),
            ngettext_lazy(
                "Marked contacted: %(count)d request.",
                "Marked contacted: %(count)d requests.",
                "count",
            ),
        )

    @admin.action(description=_("Decline"), permissions=["change"])
    def decline(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: c.transition(Status.DECLINED, by=request.user),
            ngettext_lazy("Declined: %(count)d request.", "Declined: %(count)d requests.", "count"),
        )

    @admin.action(description=_("Mark as spam"), permissions=["change"])
    def mark_spam(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: c.transition(Status.SPAM, by=request.user),
            ngettext_lazy(
                "Marked spam: %(count)d request.", "Marked spam: %(count)d requests.", "count"
            ),
        )

    @admin.action(
        description=_("Mark as duplicate (of the visitor's earlier request)"),
        permissions=["change"],
    )
    def mark_duplicate(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: c.mark_duplicate(of=c.earlier_request(), by=request.user),
            ngettext_lazy(
                "Marked duplicate: %(count)d request.",
                "Marked duplicate: %(count)d requests.",
                "count",
            ),
        )

    @admin.action(description=_("Erase this person's data"), permissions=["delete"])
    def erase_personal_data(self, request, queryset):
        """Leads to the confirmation page for the one person the selection belongs to."""
        addresses = {email.lower() for email in queryset.values_list("email", flat=True)}
        if len(addresses) != 1:
            self.message_user(
                request,
                gettext(
                    "Select the requests of one person (one email address) to erase their data."
                ),
                messages.ERROR,
            )
            return None
        url = reverse("admin:consultations_consultationrequest_erase")
        return redirect(f"{url}?{urlencode({'email': addresses.pop()})}")

    def erase_view(self, request):
        """A data subject's request: show what is kept about an address, then erase it."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        form = EraseForm(request.POST or request.GET or None)
        found = None
        if form.is_valid():
            email = form.cleaned_data["email"]
            found = ConsultationRequest.objects.personal_data_for(email)
            if request.method == "POST" and form.cleaned_data["confirm"]:
                erased = services.erase_personal_data(email=email, by=request.user)
                self.message_user(
                    request,
                    ngettext_lazy(
                        "Erased the personal data of %(count)d request, its emails and "
                        "sign-in records for that address.",
                        "Erased the personal data of %(count)d requests, their emails and "
                        "sign-in records for that address.",
                        "count",
                    )
                    % {"count": erased},
                    messages.SUCCESS,
                )
                return redirect("admin:consultations_consultationrequest_changelist")
            if request.method == "POST":
                form.add_error("confirm", gettext("Tick this box to confirm the erasure."))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase a person's data"),
            "form": form,
            "found": found,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/consultations/erase.html", context)

    def get_urls(self):
        return [
            path(
                "erase/",
                self.admin_site.admin_view(self.erase_view),
                name="consultations_consultationrequest_erase",
            ),
            path(
                "your-timezone/",
                self.admin_site.admin_view(self.timezone_view),
                name="consultations_consultationrequest_timezone",
            ),
            path(
                "<int:pk>/reply/",
                self.admin_site.admin_view(self.reply_view),
                name="consultations_consultationrequest_reply",
            ),
            path(
                "<int:pk>/schedule/",
                self.admin_site.admin_view(self.schedule_view),
                name="consultations_consultationrequest_schedule",
            ),
            *super().get_urls(),
        ]

    def schedule_view(self, request, pk):
        """Pick a 30-minute slot; the visitor gets an invitation with an .ics and a cancel link."""
        consultation = get_object_or_404(ConsultationRequest, pk=pk)
        if not self.has_change_permission(request, consultation):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None, consultation=consultation)
        if request.method == "POST" and form.is_valid():
            start = form.cleaned_data["start"]
            try:
                with transaction.atomic():
                    invitations.schedule_consultation(
                        consultation=consultation,
                        start=start,
                        by=request.user,
                        location=form.cleaned_data["location"],
                    )
                    slots.hold_scheduled_slot(consultation=consultation, start=start)
            except ValidationError as error:
                form.add_error(None, error)
            except SlotTaken:
                form.add_error(
                    None,
                    gettext(
                        "Every consultant working then already has this slot for another "
                        "request; pick another time."
                    ),
                )
            else:
                self.message_user(
                    request,
                    gettext(
                        "Scheduled %(reference)s at %(start)s UTC (%(local)s for the visitor); "
                        "the invitation is queued."
                    )
                    % {
                        "reference": consultation.reference,
                        "start": f"{start:%A %d %B %Y, %H:%M}",
                        "local": form.local_label,
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:consultations_consultationrequest_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Schedule %(reference)s") % {"reference": consultation.reference},
            "consultation": consultation,
            "form": form,
            "opts": self.model._meta,
            "original": consultation,
        }
        return TemplateResponse(request, "admin/consultations/schedule.html", context)

    def reply_view(self, request, pk):
        """Write to the visitor from the request, optionally starting from a saved reply.

        The email goes out through the outbox in the request's thread; the first
        reply stops the clock (services.reply_to_visitor).
        """
        consultation = get_object_or_404(
            ConsultationRequest.objects.select_related("assignee"), pk=pk
        )
        if not self.has_change_permission(request, consultation):
            raise PermissionDenied
        saved = list(SavedReply.objects.all())
        starting = SavedReply.objects.filter(pk=request.GET.get("saved") or None).first()
        form = ReplyForm(request.POST or None, initial={"text": starting.body if starting else ""})
        if not consultation.is_open:
            form.add_error(
                None, gettext("This request is closed: it can no longer be answered here.")
            )
        elif request.method == "POST" and form.is_valid():
            services.reply_to_visitor(
                consultation=consultation, text=form.cleaned_data["text"], by=request.user
            )
            self.message_user(
                request,
                gettext("Your reply to %(reference)s is queued for sending.")
                % {"reference": consultation.reference},
                messages.SUCCESS,
            )
            return redirect("admin:consultations_consultationrequest_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reply to %(reference)s") % {"reference": consultation.reference},
            "consultation": consultation,
            "form": form,
            "saved_replies": saved,
            "starting": starting,
            "reply_by": both_times(consultation.reply_by, consultation, request.user),
            "subject": f"Re: Your free consultation request [{consultation.reference}]",
            "may_edit_saved": request.user.has_perm("consultations.change_savedreply"),
            "opts": self.model._meta,
            "original": consultation,
        }
        return TemplateResponse(request, "admin/consultations/reply.html", context)

    def timezone_view(self, request):
        """The staff member sets their own timezone, for the times the admin shows them."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        current = StaffTimezone.objects.filter(user=request.user).first()
        form = StaffTimezoneForm(
            request.POST or None, initial={"timezone": StaffTimezone.of(request.user)}
        )
        if request.method == "POST" and form.is_valid():
            StaffTimezone.objects.update_or_create(
                user=request.user, defaults={"timezone": form.cleaned_data["timezone"]}
            )
            chosen = form.cleaned_data["timezone"]
            self.message_user(
                request,
                gettext("Times are now shown in %(timezone)s.") % {"timezone": chosen},
                messages.SUCCESS,
            )
            return redirect("admin:consultations_consultationrequest_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Your timezone"),
            "form": form,
            "is_set": current is not None,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/consultations/timezone.html", context)


class RecordAdmin(admin.ModelAdmin):
    """Records the system writes (what was sent, warned, run): shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(RecordAdmin):
    list_display = [
        "subject",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "leased_until",
    ]
    list_filter = ["status"]
    search_fields = ["to", "subject", "request__reference"]
    list_select_related = ["request"]
    readonly_fields = [f.name for f in OutgoingEmail._meta.fields]


@admin.register(DueWarning)
class DueWarningAdmin(RecordAdmin):
    list_display = ["request", "kind", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["request"]


@admin.register(ScheduledRun)
class ScheduledRunAdmin(RecordAdmin):
    list_display = ["job", "interval_start", "started_at", "finished_at", "result"]
    list_filter = ["job"]
    date_hierarchy = "interval_start"


@admin.register(PendingAddition)
class PendingAdditionAdmin(RecordAdmin):
    """Repeat bookings waiting for the address's owner to confirm them by email."""

    list_display = ["request", "created_at"]
    list_select_related = ["request"]
    readonly_fields = ["request", "note", "created_at", "client_ip"]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    """Starting texts for replies; the reply page offers each one."""

    list_display = ["title"]
    search_fields = ["title", "body"]


# --- Consultants' hours, time off and held slots (issue 15: real free slots) ---


class OwnTimeAdmin(admin.ModelAdmin):
    """Staff keep their own hours and time off; a superuser keeps anyone's."""

    list_select_related = ["person"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(person=request.user)

    def get_list_filter(self, request):
        # Whose rows to show is a superuser's filter; others see only their own.
        filters = super().get_list_filter(request)
        return filters if request.user.is_superuser else [f for f in filters if f != "person"]

    def get_exclude(self, request, obj=None):
        return [] if request.user.is_superuser else ["person"]

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.person = request.user
        super().save_model(request, obj, form, change)


class WorkingHoursForm(forms.ModelForm):
    """A stretch of hours, with the timezone they are in: the staff member's own
    (StaffTimezone), which every one of their stretches shares."""

    timezone = TimezoneField(
        label=_("Timezone"),
        required=False,
        help_text=_(
            "The staff member's IANA timezone, for example Europe/London: all their "
            "hours are in it, and the admin shows them times in it. Empty: unchanged."
        ),
    )

    class Meta:
        model = WorkingHours
        fields = ["person", "weekday", "starts", "ends"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["timezone"] = StaffTimezone.of(self.instance.person)


@admin.register(WorkingHours)
class WorkingHoursAdmin(OwnTimeAdmin):
    form = WorkingHoursForm
    list_display = ["person", "weekday", "starts", "ends", "person_timezone"]
    list_filter = ["weekday", "person"]
    list_select_related = ["person__staff_timezone"]
    fields = ["person", "weekday", "starts", "ends", "timezone"]

    @admin.display(description=_("timezone"))
    def person_timezone(self, obj):
        return StaffTimezone.of(obj.person)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not request.user.is_superuser:
            # Staff add their own hours: in their own timezone, shown.
            initial.setdefault("timezone", StaffTimezone.of(request.user))
        return initial

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("timezone"):
            StaffTimezone.objects.update_or_create(
                user=obj.person, defaults={"timezone": form.cleaned_data["timezone"]}
            )


@admin.register(TimeOff)
class TimeOffAdmin(OwnTimeAdmin):
    list_display = ["person", "starts_at", "ends_at", "reason"]
    list_filter = ["person"]
    fields = ["person", "starts_at", "ends_at", "reason"]
    date_hierarchy = "starts_at"


@admin.register(SlotHold)
class SlotHoldAdmin(RecordAdmin):
    """Which consultant's slot each request holds (written by bookings and scheduling)."""

    list_display = ["starts_at", "consultant", "request", "created_at"]
    list_filter = ["consultant"]
    list_select_related = ["consultant", "request"]
    date_hierarchy = "starts_at"


# --- end of consultants' hours, time off and held slots ---
