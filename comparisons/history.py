"""Readable differences between two stored versions (django-reversion) of a comparison.

A version of a comparison is stored with its revision's child rows (frameworks,
factors, assessments, statistics), so each version is rendered to the same
plain text as the live page (render_content_text, which the content
fingerprint also hashes) and the two texts are compared line by line.
"""

import difflib
from dataclasses import dataclass

import reversion
from django.db import transaction
from django.utils import timezone

from .models import Assessment, Comparison, Factor, Framework, OldSlug, Participant, Statistic

# What a restore leaves as it is: whether and when the page is public, and its
# review. Restoring content is an edit; publishing stays a separate decision.
KEPT_ON_RESTORE = ["status", "published_at", "last_reviewed_at", "last_reviewed_by"]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk"
    text: str


def render_content_text(
    comparison, participants, factors, assessments, statistics, *, with_address=True
):
    """Plain text of a comparison from its rows, current or from a stored revision.

    The address is left out of the fingerprint: moving a page is not a content change.
    """
    participants = sorted(participants, key=lambda p: (p.position, p.pk))
    names = {p.pk: p.framework.name for p in participants}
    lines = [
        f"Title: {comparison.title}",
        *([f"Address: {comparison.slug}"] if with_address else []),
        f"Subtitle: {comparison.subtitle}",
        f"Category: {comparison.category}",
        f"Meta description: {comparison.meta_description}",
        f"Quick verdict: {comparison.quick_verdict}",
        f"Recommendation: {comparison.recommendation}",
        "",
        "Frameworks:",
    ]
    for participant in participants:
        recommended = " (recommended)" if participant.is_recommended else ""
        lines.append(f"- {names[participant.pk]}{recommended}")
        lines.extend(f"  Choose it when: {item}" for item in participant.choose_when_items())
    lines += ["", "Factors:"]
    texts = {(a.factor_id, a.participant_id): a.text for a in assessments}
    for factor in sorted(factors, key=lambda f: (f.position, f.pk)):
        if factor.is_tie:
            decision = "Tie"
        elif factor.winner_id:
            decision = names.get(factor.winner_id, "?")
        else:
            decision = "Not decided yet"
        lines.append(f"- {factor.name} (winner: {decision})")
        for participant in participants:
            text = texts.get((factor.pk, participant.pk), "Not assessed yet")
            lines.append(f"  {names[participant.pk]}: {text}")
    lines += ["", "Statistics:"]
    for statistic in sorted(statistics, key=lambda s: (s.position, s.pk)):
        lines.append(
            f"- {statistic.value} {statistic.description} "
            f"(source: {statistic.source_name}, {statistic.source_url}, {statistic.year})"
        )
    return "\n".join(lines) + "\n"


def version_text(version):
    """The plain text of the comparison as it was in ``version``."""
    comparison = version._object_version.object
    rows = {model: [] for model in (Participant, Factor, Assessment, Statistic)}
    for stored in version.revision.version_set.all():
        if stored._model in rows:
            rows[stored._model].append(stored._object_version.object)
    participants = [p for p in rows[Participant] if p.comparison_id == comparison.pk]
    factors = [f for f in rows[Factor] if f.comparison_id == comparison.pk]
    factor_pks = {factor.pk for factor in factors}
    assessments = [a for a in rows[Assessment] if a.factor_id in factor_pks]
    statistics = [s for s in rows[Statistic] if s.comparison_id == comparison.pk]
    frameworks = Framework.objects.in_bulk([p.framework_id for p in participants])
    for participant in participants:
        participant.framework = frameworks.get(
            participant.framework_id, Framework(name="(a framework since deleted)")
        )
    return render_content_text(comparison, participants, factors, assessments, statistics)


def version_diff(old, new=None, comparison=None):
    """Lines added, removed and kept around them, from version ``old`` to ``new``.

    Without ``new``, compare with ``comparison`` as it is now.
    """
    new_text = version_text(new) if new is not None else comparison.content_text()
    diff = difflib.unified_diff(
        version_text(old).splitlines(), new_text.splitlines(), n=2, lineterm=""
    )
    lines = []
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", "…"))
        elif line.startswith("+"):
            lines.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("removed", line[1:]))
        else:
            lines.append(DiffLine("context", line[1:]))
    return lines


@transaction.atomic
def restore_version(comparison, version, *, user):
    """Bring back the comparison's content as it was in ``version``, child rows included.

    Rows deleted since come back, rows added since go, and the restore is itself
    a new revision saying who restored what. Publishing state and the last review
    stay as they are now. Returns the restored comparison.
    """
    kept = {field: getattr(comparison, field) for field in KEPT_ON_RESTORE}
    slug_before = comparison.slug
    # A framework added since may have won factors, and Factor.winner RESTRICTs
    # deleting it: clear the decisions first; the revert writes back the old ones.
    Factor.objects.filter(comparison=comparison).update(winner=None)
    with reversion.create_revision():
        version.revision.revert(delete=True)
        restored = Comparison.objects.get(pk=comparison.pk)
        for field, value in kept.items():
            setattr(restored, field, value)
        restored.save()
        reversion.add_to_revision(restored)
        reversion.set_user(user)
        when = timezone.localtime(version.revision.date_created)
        reversion.set_comment(f"Restored the version saved on {when:%Y-%m-%d %H:%M}.")
    if restored.slug != slug_before:
        OldSlug.objects.remember(restored, slug_before)
    if restored.status == Comparison.Status.PUBLISHED and restored.publication_problems():
        restored.unpublish()
    restored.refresh_content_dates(baseline=False)
    return restored
