"""The POST data the comparison admin page sends, built from a comparison as it is."""

from django.utils import timezone


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


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
            {
                prefix + "id": str(participant.pk),
                prefix + "comparison": str(comparison.pk),
                prefix + "position": str(participant.position),
                prefix + "framework": str(participant.framework_id),
                prefix + "choose_when": participant.choose_when,
            }
        )
        if participant.is_recommended:
            data[prefix + "is_recommended"] = "on"
    factors = list(comparison.factors.prefetch_related("assessments"))
    data.update(management("factors", len(factors), len(factors)))
    for index, factor in enumerate(factors):
        prefix = f"factors-{index}-"
        decision = "tie" if factor.is_tie else str(factor.winner_id or "")
        data.update(
            {
                prefix + "id": str(factor.pk),
                prefix + "comparison": str(comparison.pk),
                prefix + "position": str(factor.position),
                prefix + "name": factor.name,
                prefix + "decision": decision,
            }
        )
        texts = {a.participant_id: a.text for a in factor.assessments.all()}
        for participant in participants:
            data[f"{prefix}assessment_{participant.pk}"] = texts.get(participant.pk, "")
    statistics = list(comparison.statistics.all())
    data.update(management("statistics", len(statistics), len(statistics)))
    for index, statistic in enumerate(statistics):
        prefix = f"statistics-{index}-"
        data.update(
            {
                prefix + "id": str(statistic.pk),
                prefix + "comparison": str(comparison.pk),
                prefix + "position": str(statistic.position),
                prefix + "value": statistic.value,
                prefix + "description": statistic.description,
                prefix + "source_name": statistic.source_name,
                prefix + "source_url": statistic.source_url,
                prefix + "year": str(statistic.year or ""),
            }
        )
    data.update(overrides)
    return data
