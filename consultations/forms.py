"""
The booking form, and the admin form for scheduling a slot.

The visitor types preferred windows in their own timezone; the form checks
them against the business-reach rule in that timezone and hands the view
UTC datetimes. crispy-forms lays the form out; the validating happens here.
"""

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.forms.boundfield import BoundField
from django.urls import reverse, reverse_lazy
from django.utils import dateformat, timezone
from django.utils.functional import cached_property, lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from compare_site.validators import validate_no_control_characters
from comparisons.models import Comparison
from comparisons.translation import column

from . import slots
from .abuse import RenderToken, read_render_token, sign_render_time
from .models import (
    BOOKING_HORIZON,
    FIRST_START,
    HORIZON_TEXT,
    LAST_END,
    LAST_START,
    MIN_NOTICE,
    ConsultationRequest,
    format_local,
    in_working_hours,
    normalise_email,
    offered_timezone_names,
    on_slot_grid,
    validate_slot,
)

WINDOW_FIELDS = ("window_1", "window_2", "window_3")
# Lazy texts: worked out in the language of the page showing them.
NOTICE_TEXT = lazy(
    lambda: (
        gettext("at least %(hours)s hours from now") % {"hours": MIN_NOTICE // timedelta(hours=1)}
    ),
    str,
)()
# The element that states the slot rules; every slot field points at it.
SLOT_RULES_ID = "slot-rules"
# How many of the offered free slots a visitor may pick.
MAX_PICKED_SLOTS = 3
WINDOW_HELP = lazy(
    lambda: (
        gettext(
            "A 30-minute slot in your timezone, starting on the hour or half hour: Monday to "
            "Friday between %(first)s and %(last)s, %(notice)s and %(horizon)s."
        )
        % {
            "first": f"{FIRST_START:%H:%M}",
            "last": f"{LAST_END:%H:%M}",
            "notice": NOTICE_TEXT,
            "horizon": HORIZON_TEXT,
        }
    ),
    str,
)()


SLOT_TAKEN_MESSAGE = _("That slot was just taken — pick another; everything you typed is kept.")
FREE_SLOTS_RULES = lazy(
    lambda: (
        gettext(
            "Free 30-minute slots %(horizon)s, shown in your timezone. Pick one, or up "
            "to %(count)s: each one you pick is held for you until we reply."
        )
        % {"horizon": HORIZON_TEXT, "count": MAX_PICKED_SLOTS}
    ),
    str,
)()


class SlotRulesBoundField(BoundField):
    """A slot field described by the slot rules (SLOT_RULES_ID) and then its own errors."""

    @property
    def aria_describedby(self):
        errors = f" {self.auto_id}_error" if self.errors else ""
        return f"{SLOT_RULES_ID}{errors}"


class FreeSlotsBoundField(SlotRulesBoundField):
    @property
    def days(self):
        """[(day label, open?, [(value, time label, checked?, input id)])] for the template;
        a day is open when it is the first or holds a ticked slot."""
        picked = set(self.value() or ())
        days = []
        for number, (day, day_slots) in enumerate(self.field.days):
            rows = [
                (value, label, value in picked, f"{self.auto_id}_{value[:16].replace(':', '')}")
                for value, label in day_slots
            ]
            days.append((day, number == 0 or any(row[2] for row in rows), rows))
        return days

    @property
    def first_input_id(self):
        days = self.days
        return days[0][2][0][3] if days else self.auto_id

    def days_html(self):
        """The days as the template shows them, built here like timezone_options(): a Django
        template per checkbox costs tens of milliseconds at a thousand slots."""
        described = self.aria_describedby
        return format_html_join(
            "",
            '<details class="slot-day"{}><summary>{} <span class="slot-day__count">'
            '({})</span></summary><div class="slot-day__times" role="group" '
            'aria-label="{}">{}</div></details>',
            (
                (
                    mark_safe(" open") if is_open else "",
                    day,
                    ngettext("%(count)s free", "%(count)s free", len(rows)) % {"count": len(rows)},
                    day,
                    format_html_join(
                        "",
                        '<div class="slot"><input type="checkbox" name="{}" value="{}" id="{}" '
                        'aria-describedby="{}"{}><label for="{}">{}<span class="visually-hidden">'
                        ", {}</span></label></div>",
                        (
                            (
                                self.html_name,
                                value,
                                input_id,
                                described,
                                mark_safe(" checked") if checked else "",
                                input_id,
                                label,
                                day,
                            )
                            for value, label, checked, input_id in rows
                        ),
                    ),
                )
                for day, is_open, rows in self.days
            ),
        )


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time (no timezone yet): the form applies the visitor's timezone."""

    bound_field_class = SlotRulesBoundField
    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1800})

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M")
        return value

    def to_python(self, value):
        value = super().to_python(value)
        # super() attached the site's timezone (UTC); keep only the wall-clock time.
        return value.replace(tzinfo=None) if value else value


@cache
def timezone_lookup():
    """Offered timezone names by what a visitor may type for them: the name in any
    case, with spaces for underscores, or its place alone where no other name ends
    in it ("berlin", "new york")."""
    places = {}
    for name in offered_timezone_names():
        places.setdefault(_typed(name.rpartition("/")[2]), []).append(name)
    unique = {place: names[0] for place, names in places.items() if len(names) == 1}
    return unique | {_typed(name): name for name in offered_timezone_names()}


def _typed(text):
    return text.strip().replace(" ", "_").casefold()


def match_timezone(text):
    """The offered timezone name ``text`` stands for, or None."""
    return timezone_lookup().get(_typed(text or ""))


@cache
def timezone_options():
    """The offered timezones as a datalist's options, built once per process: a Django
    template per option costs a tenth of a second per page at ~600 of them."""
    return format_html_join(
        "", '<option value="{}"></option>', ((name,) for name in offered_timezone_names())
    )


class TimezoneInput(forms.TextInput):
    """A text input with a <datalist> of the offered timezones: browsers filter the
    list as the visitor types, on desktops and phones, with or without JavaScript."""

    list_id = "timezone-names"

    def __init__(self, attrs=None):
        defaults = {"list": self.list_id, "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**defaults, "autocapitalize": "none", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            self.list_id,
            timezone_options(),
        )


class TimezoneField(forms.CharField):
    """One of the offered timezones, typed (match_timezone) or picked from the list."""

    widget = TimezoneInput
    default_error_messages = {
        "invalid_choice": _("Choose a timezone from the list, for example Europe/Berlin.")
    }

    def to_python(self, value):
        value = super().to_python(value)
        return match_timezone(value) or value

    def validate(self, value):
        super().validate(value)
        if value and match_timezone(value) != value:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )


def slot_value(start):
    """A slot start (aware) as the booking form sends it: UTC, e.g. 2026-11-26T15:00Z."""
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class FreeSlotsField(forms.MultipleChoiceField):
    """One or more of the free slots (slots.free_slots()), shown as checkboxes by day.

    The choices are UTC starts; ``days`` groups them, labelled in ``tz``, for
    the template (consultations/_slot_picker.html).
    """

    bound_field_class = FreeSlotsBoundField
    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, starts, tz, **kwargs):
        self.starts = {slot_value(start): start for start in starts}
        self.days = []
        for start in starts:
            local = start.astimezone(tz)
            # Translators: a PHP-style date format, e.g. German "l, j. F" (Donnerstag, 3. Dezember).
            label = dateformat.format(local, pgettext("slot day", "l j F"))
            if not self.days or self.days[-1][0] != label:
                self.days.append((label, []))
            self.days[-1][1].append((slot_value(start), f"{local:%H:%M}"))
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Pick at least one time that suits you."),
                # Taken by another booking since this form was shown (the view
                # answers 409, as for a slot taken while this booking was saved).
                "invalid_choice": SLOT_TAKEN_MESSAGE,
            },
        )
        super().__init__(choices=[(value, value) for value in self.starts], **kwargs)

    def clean(self, value):
        picked = super().clean(value)
        if len(picked) > MAX_PICKED_SLOTS:
            raise forms.ValidationError(
                gettext("Pick at most %(count)s times.") % {"count": MAX_PICKED_SLOTS},
                code="too_many_slots",
            )
        return sorted(self.starts[value] for value in picked)


def clean_email_address(value):
    """A visitor's address, normalised, that we can write into a To header safely.

    Every public form that takes an address for a reply uses it (the booking
    form, the accuracy report), so the rule has one home.
    """
    email = normalise_email(value)
    # A quoted local part ("ada"@, "\\ada"@) spells an existing mailbox in
    # endless new ways, each of which would slip past the per-address limit
    # and the open-request match while landing in the same inbox; it can
    # also carry control characters. Nobody needs one here.
    if '"' in email.rpartition("@")[0] or "\\" in email:
        raise forms.ValidationError(
            _(
                "Please give your address without quotation marks or backslashes, for "
                "example ada@example.com."
            ),
            code="quoted_local_part",
        )
    # Valid by the letter of the standard, but "=?" starts an encoded word in
    # a mail header: such an address cannot be written into one safely.
    if "=?" in email:
        raise forms.ValidationError(
            _("We cannot send email to an address containing “=?”. Please check it."),
            code="encoded_word",
        )
    return email


class HumanCheckForm(forms.Form):
    """The two fields people never see, shared by every public form: a honeypot and
    the signed render token (abuse.sign_render_time) that tells a person's pace from
    a script's. A form using it lays out "website" in a hidden ``.hp-field`` and
    "rendered", and its view calls ``is_automated`` and ``needs_resending``.
    """

    # Bots fill every field; people never see this one. Not stripped: a space gives
    # a bot away too.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # The signed render token (abuse.sign_render_time): when the form was shown.
    rendered = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the posted render token says; clean_rendered() reads it.
        self.render_token = RenderToken(RenderToken.FORGED)
        if not self.is_bound:
            self.initial["rendered"] = sign_render_time()

    @property
    def is_automated(self):
        """Sent by a bot: the honeypot filled, or the render token forged or sent back
        too fast. People never see either field, so any error on them is a bot's."""
        return bool({"website", "rendered"} & self.errors.keys())

    @property
    def needs_resending(self):
        """The render token expired or was used once already: the visitor sends it again."""
        return self.render_token.needs_resending

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError(_("Leave this field empty."), code="automated")
        return ""

    def clean_rendered(self):
        """The render token's nonce (spent by the booking or report), or None when it may not."""
        self.render_token = read_render_token(self.cleaned_data["rendered"])
        if self.render_token.from_a_bot:
            raise forms.ValidationError(_("Send the form from its page."), code="automated")
        return self.render_token.nonce

    def clean(self):
        cleaned = super().clean()
        if self.needs_resending:
            self.ask_to_send_again(self.render_token.problem)
        return cleaned

    def ask_to_send_again(self, problem):
        """Refuse this copy of the form (RenderToken.EXPIRED or SPENT) with a message;
        the visitor's input stays, under a fresh render token, to be sent again."""
        self.data = self.data.copy()
        self.data["rendered"] = sign_render_time()
        if problem == RenderToken.EXPIRED:
            hours = int(settings.CONSULTATION_FORM_MAX_AGE.total_seconds() // 3600)
            message = ngettext(
                "This form was open for more than %(hours)s hour, so we could not accept it. "
                "Your details are kept below: check them and send the form again.",
                "This form was open for more than %(hours)s hours, so we could not accept it. "
                "Your details are kept below: check them and send the form again.",
                hours,
            ) % {"hours": hours}
        else:
            message = gettext(
                "This form has already been sent once. If you meant to send another one, "
                "check the details below and send it again."
            )
        self.add_error(None, forms.ValidationError(message, code=problem))


class ComparisonTitleField(forms.CharField):
    """A published comparison named by its title (any case) or its slug; empty is none.

    A text input rather than a select: the catalogue holds thousands of
    comparisons. With JavaScript, static/js/suggest.js offers matching titles
    as the visitor types; without it the visitor types the title. Text that
    names no published comparison is a field error, not a silent topic: the
    visitor may mean a page that exists under another title, and the message
    says to leave the field empty and describe the topic instead.
    """

    widget = forms.TextInput(attrs={"autocomplete": "off", "list": "comparison-suggestions"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", Comparison._meta.get_field("title").max_length)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["data-suggest-url"] = reverse_lazy("comparisons:suggest_comparisons")
        return attrs

    def clean(self, value):
        text = " ".join(super().clean(value).split())
        if not text:
            return None
        # Only what a booking reads of it (its id; its title, in every language, for
        # the emails and the form shown again): the whole row, a page's worth of
        # texts in each language, cost a third of the look-up in building the query.
        titles = [column("title", code) for code, _name in settings.LANGUAGES]
        comparison = Comparison.objects.published().titled(text).only("pk", "slug", *titles).first()
        if comparison is None:
            raise forms.ValidationError(
                _(
                    "We have no published comparison with that title. Pick one from the "
                    "suggestions, or leave this empty and describe the topic below."
                ),
                code="unknown_comparison",
            )
        return comparison

    def prepare_value(self, value):
        return value.title if isinstance(value, Comparison) else value


class BookingForm(HumanCheckForm, forms.ModelForm):
    comparison = ComparisonTitleField(
        required=False,
        label=_("Which comparison is it about?"),
        help_text=_("Start typing its title, or leave this empty and tell us the topic below."),
    )
    timezone = TimezoneField(
        max_length=64,
        label=_("Your timezone"),
        help_text=_(
            "Start typing a city in your timezone, for example Berlin, and pick it from the list. "
            "The times below are in this timezone."
        ),
    )
    window_1 = LocalDateTimeField(label=_("First choice"))
    window_2 = LocalDateTimeField(label=_("Second choice"))
    window_3 = LocalDateTimeField(label=_("Third choice (optional)"), required=False)
    consent = forms.BooleanField(
        error_messages={"required": _("Tick this box so that we may contact you about the call.")}
    )

    class Meta:
        model = ConsultationRequest
        # The comparison is a declared field (ComparisonTitleField), left out
        # here so that model validation does not look up the published
        # comparison the field just found.
        fields = ["name", "email", "company", "topic", "message", "timezone"]
        labels = {
            "name": _("Your name"),
            "email": _("Email address"),
            "company": _("Company (optional)"),
            "topic": _("Or the topic"),
            "message": _("What do you need to decide?"),
        }
        help_texts = {
            "name": "",
            "email": _("We send the confirmation and the invitation here."),
            "company": "",
            "topic": _("Only if no comparison fits, for example: choosing a vector database."),
            "message": _(
                "A few sentences are enough: your situation and the choice in front of you."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
            "message": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, now=None, free=None, promise=None, **kwargs):
        """``free`` is slots.free_slots(): when it offers slots, the visitor picks them
        instead of typing windows. ``promise`` is capacity.promise_for()."""
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.free = free or {}
        self.promise = promise
        # Invisible control characters break the emails and pages these go into.
        for name in ("name", "email", "company", "topic", "message"):
            self.fields[name].validators.append(validate_no_control_characters)
        self.fields["topic"].required = False
        self.fields["consent"].label = format_html(
            gettext(
                'You may contact me by email about this consultation. See our <a href="{}">'
                "privacy note</a>."
            ),
            reverse("consultations:privacy"),
        )
        if not self.is_bound:
            # Shown again as typed ("Show the times"): the name the slots are shown in.
            self.initial["timezone"] = match_timezone(self.initial.get("timezone")) or "UTC"
        if self.free:
            for name in WINDOW_FIELDS:
                del self.fields[name]
            self.fields["slots"] = self.free_slots_field()
            # In the page's order (the error summary follows it): before the consent.
            self.order_fields([name for name in self.fields if name != "consent"])

    @cached_property
    def helper(self):
        """The page's layout, built when the form is shown: a booking that saves
        redirects without it."""
        helper = FormHelper()
        helper.form_id = "booking-form"
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            Fieldset(
                gettext("About you"),
                "name",
                "email",
                "company",
            ),
            Fieldset(
                gettext("What you need"),
                "comparison",
                HTML('<datalist id="comparison-suggestions"></datalist>'),
                "topic",
                "message",
            ),
            self.when_fieldset(),
            # Hidden from sight and from assistive technology: only bots fill it.
            Div("website", css_class="hp-field", aria_hidden="true"),
            "rendered",
            "consent",
        )
        helper.add_input(
            Submit("submit", gettext("Request my free consultation"), css_class="button")
        )
        return helper

    @property
    def display_timezone(self):
        """The timezone the slots are shown in: the one sent, else the one preset."""
        name = self.data.get("timezone") if self.is_bound else self.initial.get("timezone")
        return match_timezone(name) or "UTC"

    def busy_notice(self):
        """ "We are busier than usual: …" in the visitor's timezone, or "" when the
        team can keep the promise (capacity.promise_for())."""
        if self.promise is None or not self.promise.is_late:
            return ""
        expected = self.promise.expected_label(self.display_timezone)
        return gettext("We are busier than usual: expect a reply by %(expected)s.") % {
            "expected": expected
        }

    def free_slots_field(self):
        return FreeSlotsField(
            starts=list(self.free),
            tz=ZoneInfo(self.display_timezone),
            label=gettext("Times that suit you"),
        )

    @property
    def offers_slots(self):
        return "slots" in self.fields

    def when_fieldset(self):
        if self.offers_slots:
            rules = FREE_SLOTS_RULES
            return Fieldset(
                gettext("When suits you"),
                "timezone",
                HTML(
                    format_html(
                        '<p><button type="submit" name="show_times" value="1" formnovalidate '
                        'class="button">{}</button></p>',
                        gettext("Show the times in this timezone"),
                    )
                ),
                HTML(format_html('<p class="form-text" id="{}">{}</p>', SLOT_RULES_ID, rules)),
                Field("slots", template="consultations/_slot_picker.html"),
            )
        return Fieldset(
            gettext("When suits you"),
            HTML(
                format_html(
                    '<p class="form-text">{}</p>',
                    gettext(
                        "Offer two or three 30-minute slots; we confirm one of them, or "
                        "suggest another."
                    ),
                )
            ),
            "timezone",
            HTML(format_html('<p class="form-text" id="{}">{}</p>', SLOT_RULES_ID, WINDOW_HELP)),
            *WINDOW_FIELDS,
        )

    def error_summary(self):
        """(label, link target id, message) for each error, in the form's order; the
        page lists them at the top, each linking to its field."""
        summary = [("", "", message) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            if name in self.errors and name not in ("website", "rendered"):
                bound = self[name]
                target = bound.first_input_id if name == "slots" else bound.id_for_label
                label = gettext("Consent") if name == "consent" else field.label
                summary.extend((label, target, message) for message in self.errors[name])
        return summary

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_email(self):
        return clean_email_address(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("comparison") and not cleaned.get("topic", "").strip():
            self.add_error(
                "topic",
                forms.ValidationError(
                    _("Choose a comparison above, or tell us the topic here."), code="no_subject"
                ),
            )
        if self.offers_slots:
            self.windows_utc = cleaned.get("slots", [])
        elif "timezone" in cleaned:
            self.windows_utc = self._clean_windows(ZoneInfo(cleaned["timezone"]))
        return cleaned

    def slot_taken(self, start, free):
        """Another visitor took ``start`` as this one sent the form: offer the slots
        still ``free`` (the taken one unticked), say so, keep everything else."""
        self.free = free or {}
        self.data = self.data.copy()
        self.data.setlist(
            "slots", [v for v in self.data.getlist("slots") if v != slot_value(start)]
        )
        self.fields["slots"] = self.free_slots_field()
        self._bound_fields_cache.pop("slots", None)
        self.add_error(
            "slots",
            forms.ValidationError(
                SLOT_TAKEN_MESSAGE,
                code="slot_taken",
            ),
        )

    def _clean_windows(self, tz):
        """The windows in UTC; each broken rule becomes a message on its own field."""
        starts = []
        for name in WINDOW_FIELDS:
            local = self.cleaned_data.get(name)
            if local is None:
                continue
            error = self._window_error(local, tz)
            if error is None and local in [s[1] for s in starts]:
                error = forms.ValidationError(
                    _("You already offered this slot; pick a different one."), code="repeat"
                )
            if error is not None:
                self.add_error(name, error)
                continue
            starts.append((local.replace(tzinfo=tz).astimezone(UTC), local))
        return [utc for utc, _ in starts]

    def _window_error(self, local, tz):
        too_soon = forms.ValidationError(
            gettext("Pick a time %(notice)s.") % {"notice": NOTICE_TEXT}, code="too_soon"
        )
        too_far = forms.ValidationError(
            gettext("Pick a time %(horizon)s.") % {"horizon": HORIZON_TEXT}, code="too_far"
        )
        # First a rough bound in wall-clock time, a day either side (more than any
        # UTC offset): year 9999 west of UTC, or year 1 east of it, has no UTC
        # equivalent, and 23:30 on 31 December 9999 has no end time.
        today = self.now.astimezone(tz).replace(tzinfo=None)
        if local < today - timedelta(days=1):
            return too_soon
        if local > today + BOOKING_HORIZON + timedelta(days=1):
            return too_far
        aware = local.replace(tzinfo=tz)
        # A time skipped by a daylight-saving change does not survive the round trip.
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
            return forms.ValidationError(
                _("That time does not exist in your timezone (the clocks change); pick another."),
                code="nonexistent",
            )
        if not on_slot_grid(local):
            return forms.ValidationError(
                _("Start on the hour or half hour, for example 10:00 or 10:30."), code="grid"
            )
        if aware < self.now + MIN_NOTICE:
            return too_soon
        if aware > self.now + BOOKING_HORIZON:
            return too_far
        if local.weekday() >= 5:
            return forms.ValidationError(_("Pick a weekday, Monday to Friday."), code="weekend")
        if not in_working_hours(local):
            return forms.ValidationError(
                gettext("Pick a time between %(first)s and %(last)s (the call ends by %(end)s).")
                % {
                    "first": f"{FIRST_START:%H:%M}",
                    "last": f"{LAST_START:%H:%M}",
                    "end": f"{LAST_END:%H:%M}",
                },
                code="hours",
            )
        return None

    def request_fields(self):
        """The ConsultationRequest fields for services.book_consultation()."""
        return {name: self.cleaned_data[name] for name in [*self._meta.fields, "comparison"]}


class ScheduleLocationField(forms.CharField):
    """Where the consultation happens: a place or a meeting link, one line."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Location or meeting link (optional)"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault(
            "help_text",
            _(
                "Sent in the invitation and its calendar entry, for example "
                "https://meet.example/abc-defg or Room 2, Example Street 1, Berlin."
            ),
        )
        super().__init__(**kwargs)
        self.validators.append(validate_no_control_characters)

    def clean(self, value):
        return " ".join(super().clean(value).split())


class ScheduleForm(forms.Form):
    """Staff pick one of the visitor's windows, or another slot (in UTC)."""

    window = forms.ChoiceField(
        label=_("One of the visitor's windows"), required=False, widget=forms.RadioSelect
    )
    other = forms.DateTimeField(
        label=_("Or another start time (UTC)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1800}),
        help_text=_("On the hour or half hour, in UTC."),
    )

    location = ScheduleLocationField()
    outside_hours = forms.BooleanField(
        label=_("Schedule it even though no consultant works then"),
        required=False,
        help_text=_("Only after agreeing it with a consultant."),
    )

    def __init__(self, *args, consultation, **kwargs):
        kwargs.setdefault("initial", {"location": consultation.meeting_location})
        super().__init__(*args, **kwargs)
        self.consultation = consultation
        now = timezone.now()
        # The browser's picker offers no date beyond the horizon; clean() refuses one anyway.
        self.fields["other"].widget.attrs.update(
            min=f"{now:%Y-%m-%dT%H:%M}", max=f"{now + BOOKING_HORIZON:%Y-%m-%dT%H:%M}"
        )
        offset = now.astimezone(ZoneInfo(consultation.timezone)).strftime("%z")
        self.fields["other"].help_text = gettext(
            "On the hour or half hour, in UTC, %(horizon)s. The visitor's timezone is "
            "%(timezone)s (UTC%(offset)s now); the confirmation names the time in both."
        ) % {
            "horizon": HORIZON_TEXT,
            "timezone": consultation.timezone,
            "offset": f"{offset[:3]}:{offset[3:]}",
        }
        self.windows = {w.starts_at.isoformat(): w for w in consultation.windows.all()}
        self.fields["window"].choices = [
            (
                key,
                gettext("%(utc)s UTC (%(local)s for the visitor)")
                % {"utc": f"{w.starts_at:%A %d %B %Y, %H:%M}", "local": w.local_label()},
            )
            for key, w in self.windows.items()
        ]

    def clean(self):
        cleaned = super().clean()
        window, other = cleaned.get("window"), cleaned.get("other")
        if bool(window) == bool(other):
            raise forms.ValidationError(
                _("Pick one of the visitor's windows or enter another time (not both)."),
                code="one_slot",
            )
        start = self.windows[window].starts_at if window else other
        try:
            # Before any arithmetic: 23:30 on 31 December 9999 has no end time.
            validate_slot(start)
        except forms.ValidationError as error:
            self.add_error(None if error.code == "slot_past" else "other", error)
            return cleaned
        cleaned["start"] = start
        self.local_label = format_local(start, self.consultation.timezone)
        working = slots.working_consultants(start)
        if working == [] and not cleaned.get("outside_hours"):
            self.add_error(
                "outside_hours",
                forms.ValidationError(
                    gettext(
                        "%(utc)s UTC (%(local)s for the visitor) is outside every consultant's "
                        "working hours. Tick this box to schedule it anyway, or pick another time."
                    )
                    % {"utc": f"{start:%A %d %B %Y, %H:%M}", "local": self.local_label},
                    code="outside_hours",
                ),
            )
        return cleaned


class NewTimesForm(forms.Form):
    """The visitor offers new times for their consultation (the reschedule link),
    in the visitor's own timezone, under the booking form's rules: the free slots
    when consultants publish hours (``free``, slots.free_slots()), else typed
    windows."""

    window_1 = LocalDateTimeField(label=_("First choice"), help_text=WINDOW_HELP)
    window_2 = LocalDateTimeField(label=_("Second choice (optional)"), required=False)
    window_3 = LocalDateTimeField(label=_("Third choice (optional)"), required=False)

    # The booking form's slot rules, shared rather than restated (one home).
    _clean_windows = BookingForm._clean_windows
    _window_error = BookingForm._window_error
    free_slots_field = BookingForm.free_slots_field
    offers_slots = BookingForm.offers_slots
    slot_taken = BookingForm.slot_taken
    slot_rules = FREE_SLOTS_RULES
    slot_rules_id = SLOT_RULES_ID

    def __init__(self, *args, consultation, now=None, free=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation = consultation
        self.now = now or timezone.now()
        self.free = free or {}
        self.windows_utc = []
        if self.free:
            for name in WINDOW_FIELDS:
                del self.fields[name]
            self.fields["slots"] = self.free_slots_field()
        else:
            for name in WINDOW_FIELDS:
                self.fields[name].widget.attrs["aria-describedby"] = "new-times-rules"

    @property
    def display_timezone(self):
        return self.consultation.timezone

    def clean(self):
        cleaned = super().clean()
        if self.offers_slots:
            self.windows_utc = cleaned.get("slots", [])
        else:
            self.windows_utc = self._clean_windows(ZoneInfo(self.consultation.timezone))
        return cleaned
