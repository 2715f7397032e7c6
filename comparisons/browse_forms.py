"""The compare picker: a reader names two to four frameworks (browse_views.compare_picker).

A plain GET form of four text inputs, all named ``f`` (so its address reads
/compare/?f=pytorch&f=tensorflow); each value is a framework's name or slug in
any case. Only frameworks in a published comparison are known: the picker never
reveals a framework that has no public page.
"""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Framework

MIN_PICKED = 2
MAX_PICKED = 4
PICKER_PARAMETER = "f"
# A longer value names no framework (Framework.name holds at most 80 characters).
MAX_NAME_LENGTH = 80
INPUT_LABELS = (
    _("First framework"),
    _("Second framework"),
    _("Third framework (optional)"),
    _("Fourth framework (optional)"),
)


class RepeatedValues(forms.Widget):
    """Every value of a repeated query parameter; the template draws the inputs."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name)


class PickerForm(forms.Form):
    f = forms.Field(widget=RepeatedValues, required=False, label=_("Frameworks to compare"))

    def clean_f(self):
        """The picked Framework rows in the reader's order, each once."""
        names = []
        for value in self.cleaned_data["f"]:
            name = " ".join(str(value).split())
            if name and name.casefold() not in [n.casefold() for n in names]:
                names.append(name)
        if len(names) > MAX_PICKED:
            raise forms.ValidationError(
                gettext("Pick at most %(most)s frameworks; you named %(count)s.")
                % {"most": MAX_PICKED, "count": len(names)},
                code="too_many",
            )
        if len(names) < MIN_PICKED:
            raise forms.ValidationError(
                gettext("Pick at least %(least)s different frameworks to compare.")
                % {"least": MIN_PICKED},
                code="too_few",
            )
        known = list(
            Framework.objects.in_published_comparisons().named(
                [name for name in names if len(name) <= MAX_NAME_LENGTH]
            )
        )
        picked, unknown = [], []
        for name in names:
            match = next(
                (f for f in known if name.casefold() in (f.name.casefold(), f.slug.casefold())),
                None,
            )
            if match is None:
                unknown.append(name)
            elif match not in picked:
                picked.append(match)
        if unknown:
            quoted = ", ".join(f"“{name[:MAX_NAME_LENGTH]}”" for name in unknown)
            raise forms.ValidationError(
                gettext(
                    "We have no comparison with %(names)s yet. Check the spelling, or pick a "
                    "name from the suggestions."
                )
                % {"names": quoted},
                code="unknown",
            )
        if len(picked) < MIN_PICKED:
            raise forms.ValidationError(
                gettext("Pick at least %(least)s different frameworks to compare.")
                % {"least": MIN_PICKED},
                code="too_few",
            )
        return picked

    def inputs(self):
        """(label, value) for each of the four inputs: the reader's values, then empty ones."""
        values = self.data.getlist(PICKER_PARAMETER)[:MAX_PICKED] if self.is_bound else []
        values = [str(value)[:MAX_NAME_LENGTH] for value in values]
        return list(zip(INPUT_LABELS, values + [""] * (MAX_PICKED - len(values)), strict=True))
