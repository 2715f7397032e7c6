"""
Content in every language of settings.LANGUAGES: the one home of what is translated.

django-modeltranslation adds a column per language beside each field named here
(``title_en``, ``title_de``), on the same row: a page reads its translations with
the queries it made before, in every language. ``comparison.title`` reads the
active language's column and falls back to English (SOURCE_LANGUAGE), the text
every translation is made from.

What a visitor sees of a translated field goes through :func:`shown_text`: the
text in the page's language when it is there (and, for a comparison's rows, the
comparison's translation is published in that language), otherwise the English
text, marked as such (templatetags/translated.py wraps it in ``lang="en"`` with a
short "not yet translated" note). Never a key, never empty where English has text.

Outdated translations: each row keeps, per language, a hash of the English text
each field was translated from (``translation_sources``). When the English text
changes after translation, the hash no longer matches and the admin lists the
field as outdated until an editor confirms the translation
(:func:`record_sources`).
"""

import functools
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext
from modeltranslation import manager as modeltranslation_manager
from modeltranslation.translator import TranslationOptions, register

from .models import Assessment, Comparison, Factor, Framework, Participant, Statistic

# The language content is written in first; every other one is translated from it.
SOURCE_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
# The languages content is translated into.
TARGET_LANGUAGES = [code for code, _ in settings.LANGUAGES if code != SOURCE_LANGUAGE]


@register(Framework)
class FrameworkTranslation(TranslationOptions):
    fields = ("description",)


@register(Comparison)
class ComparisonTranslation(TranslationOptions):
    fields = (
        "title",
        "subtitle",
        "category",
        "meta_description",
        "quick_verdict",
        "recommendation",
    )


@register(Participant)
class ParticipantTranslation(TranslationOptions):
    fields = ("choose_when",)


@register(Factor)
class FactorTranslation(TranslationOptions):
    fields = ("name",)


@register(Assessment)
class AssessmentTranslation(TranslationOptions):
    fields = ("text",)


@register(Statistic)
class StatisticTranslation(TranslationOptions):
    fields = ("description", "source_name")


# django-modeltranslation mixes its MultilingualQuerySet into a model's own QuerySet
# class (ComparisonQuerySet) with a class statement run on every get_queryset():
# a dozen new classes a search, each a little CPU and garbage. The same class for
# the same QuerySet class, made once per process, behaves the same.
_make_multilingual_queryset = modeltranslation_manager.multilingual_queryset_factory


@functools.cache
def _multilingual_queryset_class(queryset_class):
    return _make_multilingual_queryset(queryset_class, instantiate=False)


def multilingual_queryset_factory(old_cls, instantiate=True):
    """modeltranslation's factory (same arguments, same result), each class made once."""
    queryset_class = _multilingual_queryset_class(old_cls)
    return queryset_class() if instantiate else queryset_class


modeltranslation_manager.multilingual_queryset_factory = multilingual_queryset_factory


TRANSLATED_FIELDS = {
    Framework: FrameworkTranslation.fields,
    Comparison: ComparisonTranslation.fields,
    Participant: ParticipantTranslation.fields,
    Factor: FactorTranslation.fields,
    Assessment: AssessmentTranslation.fields,
    Statistic: StatisticTranslation.fields,
}


def column(field, language=SOURCE_LANGUAGE):
    """The column of ``field`` in ``language``: "title" -> "title_en"."""
    return f"{field}_{language.replace('-', '_')}"


def in_any_language(lookup, value):
    """A filter matching ``lookup`` (e.g. "title__icontains") in any language's column."""
    field, _, rest = lookup.partition("__")
    condition = Q()
    for code, _name in settings.LANGUAGES:
        condition |= Q(**{f"{column(field, code)}{'__' if rest else ''}{rest}": value})
    return condition


def owning_comparison(instance):
    """The comparison whose translation ``instance`` belongs to (None for a framework).

    Reads only relations the page already loaded (prefetch_related sets them).
    """
    if isinstance(instance, Comparison):
        return instance
    if isinstance(instance, Assessment):
        return instance.factor.comparison
    if isinstance(instance, Framework):
        return None
    return instance.comparison


def is_published_in(comparison, language):
    """Whether visitors read ``comparison``'s own translation into ``language``."""
    return language == SOURCE_LANGUAGE or language in (comparison.translations_published or [])


@dataclass(frozen=True)
class ShownText:
    """A field's text as a visitor reads it, and the language it is in."""

    text: str
    language: str
    # True when it is the English text standing in for a missing translation.
    fallback: bool


def current_language():
    return (translation.get_language() or SOURCE_LANGUAGE).split("-")[0]


def shown_text(instance, field, language=None):
    """``instance``'s ``field`` in ``language`` (the active one by default), or the
    English text marked as a fallback when there is no published translation."""
    texts = {code: getattr(instance, column(field, code)) for code, _ in settings.LANGUAGES}
    return choose_text(texts, owning_comparison(instance), language)


def choose_text(texts, comparison, language=None):
    """The ShownText of one field given its text in each language (``texts``), for a
    row of ``comparison`` (None for a framework): the one rule shown_text applies."""
    language = language or current_language()
    source = texts.get(SOURCE_LANGUAGE) or ""
    if language == SOURCE_LANGUAGE or language not in TARGET_LANGUAGES:
        return ShownText(source, SOURCE_LANGUAGE, False)
    translated = texts.get(language) or ""
    if translated.strip() and (comparison is None or is_published_in(comparison, language)):
        return ShownText(translated, language, False)
    return ShownText(source, SOURCE_LANGUAGE, bool(source.strip()))


def source_hash(text):
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


def record_sources(instance, language, fields=None):
    """Note that ``fields`` (all translated ones by default) of ``instance`` in
    ``language`` are translations of the English text as it is now. Saved by the caller."""
    sources = dict(instance.translation_sources or {})
    recorded = dict(sources.get(language, {}))
    for field in fields or TRANSLATED_FIELDS[type(instance)]:
        if getattr(instance, column(field, language)):
            recorded[field] = source_hash(getattr(instance, column(field)))
        else:
            recorded.pop(field, None)
    sources[language] = recorded
    instance.translation_sources = sources


def outdated_fields(instance, language):
    """Translated fields of ``instance`` whose English text changed since translation."""
    recorded = (instance.translation_sources or {}).get(language, {})
    return [
        field
        for field in TRANSLATED_FIELDS[type(instance)]
        if getattr(instance, column(field, language))
        and recorded.get(field) != source_hash(getattr(instance, column(field)))
    ]


def missing_fields(instance, language):
    """Fields with English text and no translation into ``language``."""
    return [
        field
        for field in TRANSLATED_FIELDS[type(instance)]
        if (getattr(instance, column(field)) or "").strip()
        and not (getattr(instance, column(field, language)) or "").strip()
    ]


@dataclass(frozen=True)
class Completeness:
    """How much of a comparison is translated into one language."""

    language: str
    translated: int
    total: int
    outdated: int
    published: bool

    @property
    def percent(self):
        return 100 if not self.total else round(100 * self.translated / self.total)

    def __str__(self):
        text = gettext("%(language)s: %(percent)s%%") % {
            "language": self.language,
            "percent": self.percent,
        }
        if self.outdated:
            text += ", " + gettext("%(count)s outdated") % {"count": self.outdated}
        if not self.published:
            text += ", " + gettext("not published")
        return text


def page_rows(comparison):
    """The comparison and every row of it that carries text (from prefetched rows)."""
    rows = [comparison]
    for participant in comparison.participants.all():
        rows.append(participant)
    for factor in comparison.factors.all():
        rows.append(factor)
        rows.extend(factor.assessments.all())
    rows.extend(comparison.statistics.all())
    return rows


def completeness(comparison, language):
    """Completeness of ``comparison``'s translation into ``language`` (prefetched rows)."""
    translated = total = outdated = 0
    for row in page_rows(comparison):
        for field in TRANSLATED_FIELDS[type(row)]:
            if not (getattr(row, column(field)) or "").strip():
                continue
            total += 1
            if (getattr(row, column(field, language)) or "").strip():
                translated += 1
        outdated += len(outdated_fields(row, language))
    return Completeness(
        language, translated, total, outdated, is_published_in(comparison, language)
    )
