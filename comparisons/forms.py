"""Admin forms for building a whole comparison in one save.

The factor rows hold one assessment per compared framework and the winner. So
that frameworks, factors, assessments and winners can all be entered before the
first save (and without JavaScript), a factor's assessment fields and winner
choices are keyed by the *row* of the compared-frameworks inline, not by a
saved framework: "assessment_2" is the assessment of whatever framework row 3
holds when the form is posted. The rows are read from the same POST
(:func:`framework_rows`), and resolved to saved Participant rows only when the
factor is saved, after the frameworks (the inlines are saved in page order).
"""

from collections import Counter
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from compare_site.validators import validate_no_control_characters

from .models import Assessment, Comparison, Factor, Framework, Participant
from .translation import TARGET_LANGUAGES, TRANSLATED_FIELDS, column, record_sources

TIE = "tie"
PARTICIPANTS_PREFIX = "participants"
KEEP_RECOMMENDATION = "keep_recommendation"
# A row left without a position goes last; rows are then numbered 1, 2, 3...
END_POSITION = 32767  # the largest PositiveSmallIntegerField
# More framework rows than any comparison page could use: a posted count above
# this is refused by the formset itself; here it only bounds the fields built.
MAX_FRAMEWORK_ROWS = 20


@dataclass(frozen=True)
class FrameworkRow:
    """One row of the compared-frameworks inline, as the factor forms see it."""

    index: int
    framework: Framework | None  # None while the row's framework is not chosen
    deleted: bool = False

    @property
    def is_live(self):
        return self.framework is not None and not self.deleted

    @property
    def label(self):
        if self.framework is not None:
            return self.framework.name
        return gettext("Framework in row %(number)s") % {"number": self.index + 1}


def framework_rows(comparison, data=None, extra=0):
    """The compared-framework rows of the page being edited or posted.

    Unbound (``data`` None): the saved participants in page order, then ``extra``
    empty rows, exactly as the compared-frameworks inline renders them.
    Bound: what each posted row holds, read from the POST itself.
    """
    if data is None:
        rows = [
            FrameworkRow(index, participant.framework)
            for index, participant in enumerate(saved_participants(comparison))
        ]
        return rows + [FrameworkRow(len(rows) + i, None) for i in range(extra)]
    try:
        total = int(data.get(f"{PARTICIPANTS_PREFIX}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    total = max(0, min(total, MAX_FRAMEWORK_ROWS))
    chosen = {i: data.get(f"{PARTICIPANTS_PREFIX}-{i}-framework", "") for i in range(total)}
    ids = {value for value in chosen.values() if value.isdigit()}
    frameworks = {str(f.pk): f for f in Framework.objects.filter(pk__in=ids)}
    return [
        FrameworkRow(
            i,
            frameworks.get(chosen[i]),
            deleted=bool(data.get(f"{PARTICIPANTS_PREFIX}-{i}-DELETE")),
        )
        for i in range(total)
    ]


def saved_participants(comparison):
    """The comparison's saved participants in page order (none for a new comparison)."""
    if comparison is None or comparison.pk is None:
        return []
    return list(comparison.participants.select_related("framework"))


def assessment_field_name(index, language=None):
    """ "assessment_2" (English, the source), or "assessment_2_de" for its translation."""
    return f"assessment_{index}" if language is None else f"assessment_{index}_{language}"


def decision_value(index):
    return f"row-{index}"


class OrderedRowForm(forms.ModelForm):
    """An inline row whose position may be left empty: it then goes last, and
    :func:`number_rows` numbers the rows 1, 2, 3... after the save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        position = self.fields["position"]
        position.required = False
        position.help_text = "Left empty, the row goes last."
        position.widget.attrs.update({"class": "row-position", "min": 1})
        if self.instance.pk is None:
            self.initial["position"] = None  # not the model's default of 1: new rows go last

    def clean_position(self):
        return self.cleaned_data["position"] or END_POSITION


def number_rows(rows):
    """Renumber saved rows (a queryset) 1, 2, 3... in their current order.

    Row by row, not in bulk, so that the revision being recorded sees the numbers.
    """
    for number, row in enumerate(rows.order_by("position", "pk"), start=1):
        if row.position != number:
            row.position = number
            row.save(update_fields=["position"])


def german_fields(fields):
    """The German columns of ``fields`` (comparisons/translation.py), for the admin."""
    return [column(field, language) for language in TARGET_LANGUAGES for field in fields]


class ComparisonForm(forms.ModelForm):
    """The comparison's own fields in English and German, and the confirmations the
    recommendation check and outdated translations ask for."""

    translations_published = forms.MultipleChoiceField(
        label=_("Translations published"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Visitors read the page in these languages; in any other, it shows in "
            "English with a note that it is not yet translated."
        ),
    )
    confirm_translations = forms.BooleanField(
        label=_("The translations are current"),
        required=False,
        help_text=_(
            "Tick after checking the translations against the English text: fields "
            "listed as outdated are then up to date again."
        ),
    )

    keep_recommendation = forms.BooleanField(
        label=_("Keep the recommendation"),
        required=False,
        help_text=_(
            "Tick to keep the Recommended badge on a framework that does not lead "
            "on score; without it, saving such a page asks you first."
        ),
    )

    class Meta:
        model = Comparison
        # ComparisonAdmin's fieldsets decide what is shown; these are the editable ones.
        fields = [
            "title",
            "slug",
            "subtitle",
            "category",
            "quick_verdict",
            "recommendation",
            "meta_description",
            "status",
            "published_at",
            *german_fields(TRANSLATED_FIELDS[Comparison]),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = dict(settings.LANGUAGES)
        self.fields["translations_published"].choices = [
            (code, languages[code]) for code in TARGET_LANGUAGES
        ]
        self.initial["translations_published"] = self.instance.translations_published or []

    def clean_translations_published(self):
        return sorted(self.cleaned_data["translations_published"])

    def save(self, commit=True):
        self.instance.translations_published = self.cleaned_data["translations_published"]
        return super().save(commit=commit)

    def clean(self):
        cleaned = super().clean()
        # Publishing with no time set means "now": but only once the inlines are
        # saved and the page is complete (ComparisonAdmin.save_related), which is
        # also when the time is stamped. Until then the page is kept as a draft.
        self.asks_to_publish = cleaned.get("status") == Comparison.Status.PUBLISHED
        if self.asks_to_publish and not cleaned.get("published_at"):
            cleaned["status"] = Comparison.Status.DRAFT
        return cleaned


class FactorFormSet(BaseInlineFormSet):
    """The factor rows, checked together: does the recommended framework lead?"""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [row for row in self.form.rows if row.is_live]
        recommended = [
            row
            for row in rows
            if self.data.get(f"{PARTICIPANTS_PREFIX}-{row.index}-is_recommended")
        ]
        if not recommended or self.data.get(KEEP_RECOMMENDATION):
            return
        wins = Counter()
        total = 0
        for form in self.forms:
            if self._should_delete_form(form) or (
                form.instance.pk is None and not form.has_changed()
            ):
                continue
            total += 1
            wins[form.cleaned_data.get("decision", "")] += 1
        leader = max(rows, key=lambda row: wins[decision_value(row.index)])
        chosen = recommended[0]
        chosen_wins = wins[decision_value(chosen.index)]
        leader_wins = wins[decision_value(leader.index)]
        if chosen_wins < leader_wins:
            raise forms.ValidationError(
                gettext(
                    "%(chosen)s is marked Recommended but wins %(chosen_wins)s of %(total)s "
                    "factors, while %(leader)s wins %(leader_wins)s. Untick its Recommended "
                    'box, or tick "Keep the recommendation" under Verdict to confirm it.'
                ),
                code="recommended_trails",
                params={
                    "chosen": chosen.label,
                    "chosen_wins": chosen_wins,
                    "total": total,
                    "leader": leader.label,
                    "leader_wins": leader_wins,
                },
            )


class FactorForm(OrderedRowForm):
    """A factor, its decision and one assessment field per compared-framework row.

    ``rows`` is set on a subclass made by :func:`factor_form_for`, because the
    fields depend on how many framework rows the page has.
    """

    rows = ()
    # Saved participant pk -> framework pk, to show the saved winner and texts.
    participant_frameworks = {}

    decision = forms.ChoiceField(
        label=_("Winner"),
        required=False,
        help_text=_("Which framework wins this factor, or a tie."),
    )

    class Meta:
        model = Factor
        fields = ["position", "name", *german_fields(["name"])]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            ("", gettext("Not decided yet")),
            (TIE, gettext("Tie")),
            *[(decision_value(row.index), row.label) for row in self.rows if not row.deleted],
        ]
        self.fields["decision"].error_messages["invalid_choice"] = gettext(
            "Choose one of the frameworks in this comparison, or Tie."
        )
        if self.instance.pk:
            self._set_saved_values()

    def _set_saved_values(self):
        index_of = {row.framework.pk: row.index for row in self.rows if row.framework}
        participants = self.participant_frameworks
        if self.instance.is_tie:
            self.initial["decision"] = TIE
        elif self.instance.winner_id in participants:
            index = index_of.get(participants[self.instance.winner_id])
            if index is not None:
                self.initial["decision"] = decision_value(index)
        for assessment in self.instance.assessments.all():
            index = index_of.get(participants.get(assessment.participant_id))
            if index is not None:
                self.initial[assessment_field_name(index)] = assessment.text_en
                for language in TARGET_LANGUAGES:
                    name = assessment_field_name(index, language)
                    self.initial[name] = getattr(assessment, column("text", language))

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision", "")
        if decision not in ("", TIE):
            row = self._row_of(decision)
            if row is None or not row.is_live:
                self.add_error(
                    "decision",
                    forms.ValidationError(
                        gettext(
                            "The winner's framework row is empty: choose its framework above, "
                            "or pick another winner."
                        ),
                        code="winner_row_empty",
                    ),
                )
        for row in self.rows:
            name = assessment_field_name(row.index)
            if cleaned.get(name, "").strip() and row.framework is None and not row.deleted:
                self.add_error(
                    name,
                    forms.ValidationError(
                        gettext(
                            "Row %(number)s of the compared frameworks has no framework yet: "
                            "choose it above, or clear this assessment."
                        ),
                        code="assessment_row_empty",
                        params={"number": row.index + 1},
                    ),
                )
        return cleaned

    def _row_of(self, decision):
        for row in self.rows:
            if decision_value(row.index) == decision:
                return row
        return None

    def _participant(self, row):
        return Participant.objects.get(comparison=self.instance.comparison, framework=row.framework)

    def save(self, commit=True):
        decision = self.cleaned_data.get("decision", "")
        self.instance.is_tie = decision == TIE
        winner_row = self._row_of(decision)
        self.instance.winner = self._participant(winner_row) if winner_row else None
        return super().save(commit=commit)

    def _save_m2m(self):
        super()._save_m2m()
        for row in self.rows:
            if not row.is_live:
                continue  # a deleted framework's assessments go with its row
            participant = self._participant(row)
            text = self.cleaned_data.get(assessment_field_name(row.index), "").strip()
            if text:
                texts = {column("text"): text}
                changed = []
                for language in TARGET_LANGUAGES:
                    name = assessment_field_name(row.index, language)
                    texts[column("text", language)] = self.cleaned_data.get(name, "").strip()
                    if name in self.changed_data:
                        changed.append(language)
                assessment, _ = Assessment.objects.update_or_create(
                    factor=self.instance, participant=participant, defaults=texts
                )
                if changed:
                    for language in changed:
                        record_sources(assessment, language)
                    assessment.save(update_fields=["translation_sources"])
            else:
                Assessment.objects.filter(factor=self.instance, participant=participant).delete()


def factor_form_for(rows, participants=()):
    """A FactorForm subclass with an assessment field for each framework row.

    ``participants`` are the comparison's saved ones, whose assessments and
    winner the saved factors show.
    """
    attrs = {
        "rows": tuple(rows),
        "participant_frameworks": {p.pk: p.framework_id for p in participants},
    }
    for row in rows:
        attrs[assessment_field_name(row.index)] = forms.CharField(
            label=gettext("%(framework)s assessment") % {"framework": row.label},
            required=False,
            widget=forms.Textarea(
                attrs={"rows": 2, "cols": 40, "data-framework-row": str(row.index)}
            ),
            validators=[validate_no_control_characters],
        )
        for language in TARGET_LANGUAGES:
            attrs[assessment_field_name(row.index, language)] = forms.CharField(
                label=gettext("%(framework)s assessment [%(language)s]")
                % {"framework": row.label, "language": language},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
                validators=[validate_no_control_characters],
            )
    return type("FactorForm", (FactorForm,), attrs)
