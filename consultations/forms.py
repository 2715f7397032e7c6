"""
The booking form, and the admin form for scheduling a slot.

The visitor types preferred windows in their own timezone; the form checks
them against the business-reach rule in that timezone and hands the view
UTC datetimes. crispy-forms lays the form out; the validating happens here.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from compare_site.validators import validate_no_control_characters
from comparisons.models import Comparison

from .abuse import RenderToken, read_render_token, sign_render_time
from .models import (
    BOOKING_HORIZON,
    FIRST_START,
    HORIZON_TEXT,
    LAST_END,
    LAST_START,
    MIN_NOTICE,
    ConsultationRequest,
    in_working_hours,
    normalise_email,
    on_slot_grid,
    timezone_names,
    validate_slot,
)

WINDOW_FIELDS = ("window_1", "window_2", "window_3")
NOTICE_TEXT = f"at least {MIN_NOTICE // timedelta(hours=1)} hours from now"
WINDOW_HELP = (
    "A 30-minute slot in your timezone, starting on the hour or half hour: Monday to Friday "
    f"between {FIRST_START:%H:%M} and {LAST_END:%H:%M}, {NOTICE_TEXT} and {HORIZON_TEXT}."
)


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time (no timezone yet): the form applies the visitor's timezone."""

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


class LongSelect(forms.Select):
    """A select of hundreds of options (timezones) built in Python.

    Django renders each option through its own template, which for ~600
    timezones costs a tenth of a second per page; the markup is the same.
    """

    def render(self, name, value, attrs=None, renderer=None):
        value = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, " selected" if key == value else "", label) for key, label in self.choices),
        )
        return format_html(
            "<select{}>{}</select>",
            flatatt(self.build_attrs(self.attrs, {**(attrs or {}), "name": name})),
            options,
        )


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
            "Please give your address without quotation marks or backslashes, for "
            "example ada@example.com.",
            code="quoted_local_part",
        )
    # Valid by the letter of the standard, but "=?" starts an encoded word in
    # a mail header: such an address cannot be written into one safely.
    if "=?" in email:
        raise forms.ValidationError(
            "We cannot send email to an address containing “=?”. Please check it.",
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
        label="Leave this field empty",
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
            raise forms.ValidationError("Leave this field empty.", code="automated")
        return ""

    def clean_rendered(self):
        """The render token's nonce (spent by the booking or report), or None when it may not."""
        self.render_token = read_render_token(self.cleaned_data["rendered"])
        if self.render_token.from_a_bot:
            raise forms.ValidationError("Send the form from its page.", code="automated")
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
            message = (
                f"This form was open for more than {hours} hour{'s' if hours != 1 else ''}, "
                "so we could not accept it. "
                "Your details are kept below: check them and send the form again."
            )
        else:
            message = (
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
        comparison = Comparison.objects.published().titled(text).first()
        if comparison is None:
            raise forms.ValidationError(
                "We have no published comparison with that title. Pick one from the "
                "suggestions, or leave this empty and describe the topic below.",
                code="unknown_comparison",
            )
        return comparison

    def prepare_value(self, value):
        return value.title if isinstance(value, Comparison) else value


class BookingForm(HumanCheckForm, forms.ModelForm):
    comparison = ComparisonTitleField(
        required=False,
        label="Which comparison is it about?",
        help_text="Start typing its title, or leave this empty and tell us the topic below.",
    )
    timezone = forms.ChoiceField(
        widget=LongSelect,
        label="Your timezone",
        help_text="The times below are in this timezone.",
        error_messages={
            "invalid_choice": "Choose a timezone from the list, for example Europe/Berlin."
        },
    )
    window_1 = LocalDateTimeField(label="First choice", help_text=WINDOW_HELP)
    window_2 = LocalDateTimeField(label="Second choice")
    window_3 = LocalDateTimeField(label="Third choice (optional)", required=False)
    consent = forms.BooleanField(
        error_messages={"required": "Tick this box so that we may contact you about the call."}
    )

    class Meta:
        model = ConsultationRequest
        # The comparison is a declared field (ComparisonTitleField), left out
        # here so that model validation does not look up the published
        # comparison the field just found.
        fields = ["name", "email", "company", "topic", "message", "timezone"]
        labels = {
            "name": "Your name",
            "email": "Email address",
            "company": "Company (optional)",
            "topic": "Or the topic",
            "message": "What do you need to decide?",
        }
        help_texts = {
            "name": "",
            "email": "We send the confirmation and the invitation here.",
            "company": "",
            "topic": "Only if no comparison fits, for example: choosing a vector database.",
            "message": "A few sentences are enough: your situation and the choice in front of you.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
            "message": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        # Invisible control characters break the emails and pages these go into.
        for name in ("name", "email", "company", "topic", "message"):
            self.fields[name].validators.append(validate_no_control_characters)
        self.fields["timezone"].choices = [(n, n) for n in sorted(timezone_names())]
        self.fields["topic"].required = False
        self.fields["consent"].label = format_html(
            'You may contact me by email about this consultation. See our <a href="{}">privacy '
            "note</a>.",
            reverse("consultations:privacy"),
        )
        if not self.is_bound:
            self.initial.setdefault("timezone", "UTC")
        self.helper = FormHelper()
        self.helper.form_id = "booking-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Fieldset(
                "About you",
                "name",
                "email",
                "company",
            ),
            Fieldset(
                "What you need",
                "comparison",
                HTML('<datalist id="comparison-suggestions"></datalist>'),
                "topic",
                "message",
            ),
            Fieldset(
                "When suits you",
                HTML(
                    '<p class="form-text">Offer two or three 30-minute slots; we confirm one '
                    "of them, or suggest another.</p>"
                ),
                "timezone",
                *WINDOW_FIELDS,
            ),
            Div("website", css_class="hp-field"),
            "rendered",
            "consent",
        )
        self.helper.add_input(Submit("submit", "Request my free consultation", css_class="button"))

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
                    "Choose a comparison above, or tell us the topic here.", code="no_subject"
                ),
            )
        if "timezone" in cleaned:
            self.windows_utc = self._clean_windows(ZoneInfo(cleaned["timezone"]))
        return cleaned

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
                    "You already offered this slot; pick a different one.", code="repeat"
                )
            if error is not None:
                self.add_error(name, error)
                continue
            starts.append((local.replace(tzinfo=tz).astimezone(UTC), local))
        return [utc for utc, _ in starts]

    def _window_error(self, local, tz):
        too_soon = forms.ValidationError(f"Pick a time {NOTICE_TEXT}.", code="too_soon")
        too_far = forms.ValidationError(f"Pick a time {HORIZON_TEXT}.", code="too_far")
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
                "That time does not exist in your timezone (the clocks change); pick another.",
                code="nonexistent",
            )
        if not on_slot_grid(local):
            return forms.ValidationError(
                "Start on the hour or half hour, for example 10:00 or 10:30.", code="grid"
            )
        if aware < self.now + MIN_NOTICE:
            return too_soon
        if aware > self.now + BOOKING_HORIZON:
            return too_far
        if local.weekday() >= 5:
            return forms.ValidationError("Pick a weekday, Monday to Friday.", code="weekend")
        if not in_working_hours(local):
            return forms.ValidationError(
                f"Pick a time between {FIRST_START:%H:%M} and {LAST_START:%H:%M} "
                f"(the call ends by {LAST_END:%H:%M}).",
                code="hours",
            )
        return None

    def request_fields(self):
        """The ConsultationRequest fields for services.book_consultation()."""
        return {name: self.cleaned_data[name] for name in [*self._meta.fields, "comparison"]}


class ScheduleForm(forms.Form):
    """Staff pick one of the visitor's windows, or another slot (in UTC)."""

    window = forms.ChoiceField(
        label="One of the visitor's windows", required=False, widget=forms.RadioSelect
    )
    other = forms.DateTimeField(
        label="Or another start time (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1800}),
        help_text="On the hour or half hour, in UTC.",
    )

    def __init__(self, *args, consultation, **kwargs):
        super().__init__(*args, **kwargs)
        self.windows = {w.starts_at.isoformat(): w for w in consultation.windows.all()}
        self.fields["window"].choices = [
            (key, f"{w.starts_at:%A %d %B %Y, %H:%M} UTC ({w.local_label()} for the visitor)")
            for key, w in self.windows.items()
        ]

    def clean(self):
        cleaned = super().clean()
        window, other = cleaned.get("window"), cleaned.get("other")
        if bool(window) == bool(other):
            raise forms.ValidationError(
                "Pick one of the visitor's windows or enter another time (not both).",
                code="one_slot",
            )
        start = self.windows[window].starts_at if window else other
        try:
            # Before any arithmetic: 23:30 on 31 December 9999 has no end time.
            validate_slot(start)
        except forms.ValidationError as error:
            self.add_error(None if error.code == "slot_past" else "other", error)
        cleaned["start"] = start
        return cleaned
