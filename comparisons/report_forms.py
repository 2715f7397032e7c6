"""The readers' "Is this still accurate?" form (comparisons/reports.py sends it)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from compare_site.validators import validate_no_control_characters
from consultations.forms import HumanCheckForm, clean_email_address

from .models import REPORT_TEXT_MAX_LENGTH, AccuracyReport


class AccuracyReportForm(HumanCheckForm, forms.ModelForm):
    """What is wrong (required), a source for it and an address for the one reply.

    The honeypot, the signed render token and the reply-address rule are the
    booking form's (HumanCheckForm, clean_email_address); the text rules are
    the model's fields and validators.
    """

    class Meta:
        model = AccuracyReport
        fields = ["text", "source_url", "email"]
        labels = {
            "text": _("What is wrong or out of date?"),
            "source_url": _("A link that shows it (optional)"),
            "email": _("Your email, if you would like a reply (optional)"),
        }
        help_texts = {
            "text": format_lazy(
                _(
                    "A few sentences are enough; at most {count} characters. "
                    "Nothing you write here is published."
                ),
                count=REPORT_TEXT_MAX_LENGTH,
            ),
            "source_url": _("For example: https://example.org/release-notes"),
            "email": _(
                "We write once, when an editor has looked at your report, and then "
                "delete the address."
            ),
        }
        error_messages = {
            "text": {"required": _("Tell us what is wrong or out of date.")},
            "source_url": {
                "invalid": _("Enter a full web address, for example https://example.org/page.")
            },
            "email": {
                "invalid": _("Enter an email address such as ada@example.com, or leave it empty.")
            },
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 5}),
            "source_url": forms.URLInput(attrs={"inputmode": "url"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model checks the text; the link and the address go into the editors'
        # queue and an email header, so they are checked here too.
        for name in ("source_url", "email"):
            self.fields[name].validators.append(validate_no_control_characters)
        self.helper = FormHelper()
        self.helper.form_id = "report-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "text",
            "source_url",
            "email",
            Div("website", css_class="hp-field"),
            "rendered",
        )
        self.helper.add_input(Submit("submit", gettext("Send the report"), css_class="button"))

    def clean_text(self):
        return self.cleaned_data["text"].strip()

    def clean_email(self):
        email = self.cleaned_data["email"]
        return clean_email_address(email) if email else ""
