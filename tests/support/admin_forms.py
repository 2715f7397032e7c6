"""What the admin pages are reached by and what they send: change URLs and
the POST data of the comparison admin page."""

from django.urls import reverse
from django.utils import timezone


def change_url(obj):
    """The admin change page of any model instance."""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def management(prefix, total, initial=0):
    """The management form of an inline formset with ``total`` forms, ``initial`` of them saved."""
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def inline_row(prefix, row, **fields):
    """One saved inline row as the change form posts it: its id, its comparison,
    its position, and ``fields``."""
    values = {
        "id": str(row.pk),
        "comparison": str(row.comparison_id),
        "position": str(row.position),
    }
    values.update(fields)
    return {prefix + name: value for name, value in values.items()}


def comparison_fields(**overrides):
    """The comparison's own fields for a new three-way draft, plus ``overrides``."""
    fields = {
        "title": "PyTorch vs TensorFlow vs JAX",
        "slug": "pytorch-vs-tensorflow-vs-jax",
        "subtitle": "Three deep learning frameworks.",
        "category": "Technology",
        "quick_verdict": "PyTorch for research, TensorFlow for mobile, JAX for TPUs.",
        "recommendation": "Start with PyTorch.",
        "meta_description": "PyTorch, TensorFlow and JAX compared.",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
    }
    fields.update(overrides)
    return fields


def assessment(row):
    """A factor form's assessment field for the framework in row ``row`` (from 0)."""
    return f"assessment_{row}"


def winner(row):
    """The winner choice naming the framework in row ``row`` (from 0)."""
    return f"row-{row}"


def decision(factor, row_of):
    """A saved factor's winner choice; ``row_of`` maps participant pk to its row."""
    if factor.is_tie:
        return "tie"
    return winner(row_of[factor.winner_id]) if factor.winner_id else ""


def change_form_data(comparison, **overrides):
    """What an editor submits when saving ``comparison`` unchanged, plus ``overrides``."""
    published_at = comparison.published_at and timezone.localtime(comparison.published_at)
    data = {
        "title": comparison.title,
        "slug": comparison.slug,
        "subtitle": comparison.subtitle,
        "category": comparison.category,
        "quick_verdict": comparison.quick_verdict,
        "recommendation": comparison.recommendation,
        "meta_description": comparison.meta_description,
        "status": comparison.status,
        "published_at_0": published_at.strftime("%Y-%m-%d") if published_at else "",
        "published_at_1": published_at.strftime("%H:%M:%S") if published_at else "",
    }
    participants = list(comparison.participants.all())
    data.update(management("participants", len(participants), len(participants)))
    for index, participant in enumerate(participants):
        prefix = f"participants-{index}-"
        data.update(
            inline_row(
                prefix,
                participant,
                framework=str(participant.framework_id),
                choose_when=participant.choose_when,
                version=participant.version,
                version_as_of=participant.version_as_of.isoformat()
                if participant.version_as_of
                else "",
            )
        )
        if participant.is_recommended:
            data[prefix + "is_recommended"] = "on"
    factors = list(comparison.factors.prefetch_related("assessments"))
    data.update(management("factors", len(factors), len(factors)))
    row_of = {participant.pk: row for row, participant in enumerate(participants)}
    for index, factor in enumerate(factors):
        prefix = f"factors-{index}-"
        data.update(inline_row(prefix, factor, name=factor.name, decision=decision(factor, row_of)))
        texts = {a.participant_id: a.text for a in factor.assessments.all()}
        for participant in participants:
            data[prefix + assessment(row_of[participant.pk])] = texts.get(participant.pk, "")
    statistics = list(comparison.statistics.all())
    data.update(management("statistics", len(statistics), len(statistics)))
    for index, statistic in enumerate(statistics):
        prefix = f"statistics-{index}-"
        data.update(
            inline_row(
                prefix,
                statistic,
                value=statistic.value,
                description=statistic.description,
                source_name=statistic.source_name,
                source_url=statistic.source_url,
                year=str(statistic.year or ""),
            )
        )
    data.update(overrides)
    return data
