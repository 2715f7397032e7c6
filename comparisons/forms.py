"""Admin forms for editing a factor with one assessment per compared framework."""

from django import forms

from compare_site.validators import validate_no_control_characters

from .models import Assessment, Factor

TIE = "tie"


class FactorForm(forms.ModelForm):
    """A factor, its decision and one assessment field per compared framework.

    ``participants`` is set on a subclass made by :func:`factor_form_for`,
    because the fields depend on which frameworks the comparison holds.
    """

    participants = ()

    decision = forms.ChoiceField(
        label="Winner",
        required=False,
        help_text="Which framework wins this factor, or a tie.",
    )

    class Meta:
        model = Factor
        fields = ["position", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            ("", "Not decided yet"),
            (TIE, "Tie"),
            *[(str(p.pk), p.framework.name) for p in self.participants],
        ]
        self.fields["decision"].error_messages["invalid_choice"] = (
            "Choose one of the frameworks in this comparison, or Tie."
        )
        if self.instance.pk:
            if self.instance.is_tie:
                self.initial["decision"] = TIE
            elif self.instance.winner_id:
                self.initial["decision"] = str(self.instance.winner_id)
            texts = {a.participant_id: a.text for a in self.instance.assessments.all()}
            for participant in self.participants:
                self.initial[assessment_field_name(participant)] = texts.get(participant.pk, "")

    def clean_decision(self):
        decision = self.cleaned_data["decision"]
        if decision in ("", TIE):
            return decision
        for participant in self.participants:
            if str(participant.pk) == decision:
                return participant
        raise forms.ValidationError(
            "Choose one of the frameworks in this comparison, or Tie.", code="invalid_winner"
        )

    def save(self, commit=True):
        decision = self.cleaned_data.get("decision", "")
        self.instance.is_tie = decision == TIE
        self.instance.winner = decision if decision not in ("", TIE) else None
        return super().save(commit=commit)

    def _save_m2m(self):
        super()._save_m2m()
        for participant in self.participants:
            text = self.cleaned_data.get(assessment_field_name(participant), "").strip()
            if text:
                Assessment.objects.update_or_create(
                    factor=self.instance, participant=participant, defaults={"text": text}
                )
            else:
                Assessment.objects.filter(factor=self.instance, participant=participant).delete()


def assessment_field_name(participant):
    return f"assessment_{participant.pk}"


def factor_form_for(participants):
    """A FactorForm subclass with an assessment field for each participant."""
    attrs = {"participants": tuple(participants)}
    for participant in participants:
        attrs[assessment_field_name(participant)] = forms.CharField(
            label=f"{participant.framework.name} assessment",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
            validators=[validate_no_control_characters],
        )
    return type("FactorForm", (FactorForm,), attrs)
