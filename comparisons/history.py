"""Readable differences between two stored versions (django-reversion) of a comparison.

A version of a comparison is stored with its revision's child rows (frameworks,
factors, assessments, statistics), so each version is rendered to the same
plain text as the live page (models.render_content_text) and the two texts
are compared line by line.
"""

import difflib
from dataclasses import dataclass

from .models import Assessment, Factor, Framework, Participant, Statistic, render_content_text


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk"
    text: str


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


def version_diff(old, new):
    """Lines added, removed and kept around them, from version ``old`` to ``new``."""
    diff = difflib.unified_diff(
        version_text(old).splitlines(), version_text(new).splitlines(), n=2, lineterm=""
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
