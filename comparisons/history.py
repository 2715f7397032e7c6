"""Readable differences between stored versions (django-reversion) of a comparison.

A version of a comparison is stored with its revision's child rows (frameworks,
factors, assessments, statistics). A version, or the page as it is now, is read
into a Snapshot of those rows, and a snapshot into labelled rows: the page's
own fields, each framework, each factor and each statistic, each with its parts
in page order. Two snapshots are compared row by row through the rows' primary
keys (an assessment through its factor and framework), never through their
text: an edited value reads "label: old → new", a renamed factor reads as a
rename, and only rows really added or removed read as added or removed.

render_content_text is the page as plain text, which the content fingerprint
(Comparison.refresh_content_dates) hashes: its output must stay as it is, or
every stored fingerprint would count as a content change.
"""

from dataclasses import dataclass, field

import reversion
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Assessment, Comparison, Factor, Framework, OldSlug, Participant, Statistic

# What a restore leaves as it is: whether and when the page is public, and its
# review. Restoring content is an edit; publishing stays a separate decision.
KEPT_ON_RESTORE = ["status", "published_at", "last_reviewed_at", "last_reviewed_by"]

# How the history pages, the restore messages and the revisions' comments
# write when a version was saved (a Django date format): to the second, so two
# saves in the same minute can be told apart, with the time zone.
SAVED_AT_FORMAT = "Y-m-d H:i:s T"

NOT_ASSESSED = "Not assessed yet"
NOT_DECIDED = "Not decided yet"


def saved_at(moment):
    """``moment`` as every history page and message writes it, in the current time zone."""
    return dateformat.format(timezone.localtime(moment), SAVED_AT_FORMAT)


def version_name(version):
    """A version as editors tell it apart: when it was saved and by whom."""
    user = version.revision.user
    moment = saved_at(version.revision.date_created)
    if user is None:
        return gettext("%(moment)s (no author recorded)") % {"moment": moment}
    return gettext("%(moment)s by %(author)s") % {"moment": moment, "author": user.get_username()}


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
        # Only when set, so that a framework without a version reads as it did
        # before versions existed and its page's fingerprint stays valid.
        lines.extend(f"  {label}: {value}" for label, value in version_parts(participant))
        lines.extend(f"  Choose it when: {item}" for item in participant.choose_when_items())
    lines += ["", "Factors:"]
    texts = {(a.factor_id, a.participant_id): a.text for a in assessments}
    for factor in sorted(factors, key=lambda f: (f.position, f.pk)):
        decision = decision_text(factor, names)
        lines.append(f"- {factor.name} (winner: {decision})")
        for participant in participants:
            text = texts.get((factor.pk, participant.pk), NOT_ASSESSED)
            lines.append(f"  {names[participant.pk]}: {text}")
    lines += ["", "Statistics:"]
    for statistic in sorted(statistics, key=lambda s: (s.position, s.pk)):
        lines.append(
            f"- {statistic.value} {statistic.description} "
            f"(source: {statistic.source_name}, {statistic.source_url}, {statistic.year})"
        )
    return "\n".join(lines) + "\n"


def version_parts(participant):
    """A framework's version and "as of" date that are set, as (label, value) pairs.

    The date is written as ISO 8601 (2026-03-15), not as the page writes it
    (Participant.version_label): the text is hashed, and must not change with
    the language or the display format.
    """
    parts = []
    if participant.version:
        parts.append(("Version", participant.version))
    if participant.version_as_of:
        parts.append(("As of", participant.version_as_of.isoformat()))
    return parts


def decision_text(factor, names):
    """A factor's decision in words; ``names`` maps participant pks to framework names."""
    if factor.is_tie:
        return "Tie"
    if factor.winner_id:
        return names.get(factor.winner_id, "?")
    return NOT_DECIDED


def decision_label(factor, names):
    """decision_text as the history pages read it, in the active language (decision_text
    itself stays English: the content fingerprint hashes it)."""
    if factor.is_tie:
        return gettext("Tie")
    if factor.winner_id:
        return names.get(factor.winner_id, "?")
    return gettext("Not decided yet")


@dataclass(frozen=True)
class Row:
    """One thing on the page, as an editor names it, with its parts in page order.

    ``key`` is the row's identity across versions, ("factor", pk) for example;
    ``parts`` maps each part's own key to its (label, value). A part keyed
    "name" is what the row is called: when it changes, the row was renamed.
    """

    key: tuple
    kind: str  # "Framework", "Factor", "Statistic" (translated), or "" for the page's own fields
    name: str
    parts: dict

    @property
    def label(self):
        if not self.kind:
            return ""
        return gettext('%(kind)s "%(name)s"') % {"kind": self.kind, "name": self.name}

    def part_label(self, label):
        return f"{self.label}: {label}" if self.kind else label


# The sections a difference is told in, in page order, by the first part of a row's key.
SECTIONS = {
    "comparison": _("Page"),
    "participant": _("Frameworks"),
    "factor": _("Factors"),
    "statistic": _("Statistics"),
}


@dataclass
class Snapshot:
    """A comparison's rows as they were in a stored version, or as they are now."""

    comparison: Comparison
    participants: list
    factors: list
    assessments: list
    statistics: list

    @classmethod
    def of_version(cls, version):
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
        return cls(comparison, participants, factors, assessments, statistics)

    @classmethod
    def of_page(cls, comparison):
        factors = list(comparison.factors.prefetch_related("assessments"))
        return cls(
            comparison,
            list(comparison.participants.select_related("framework")),
            factors,
            [assessment for factor in factors for assessment in factor.assessments.all()],
            list(comparison.statistics.all()),
        )

    def text(self):
        return render_content_text(
            self.comparison, self.participants, self.factors, self.assessments, self.statistics
        )

    def rows(self):
        """The page's own fields, then its frameworks, factors and statistics, in page order."""
        comparison = self.comparison
        rows = [
            Row(
                ("comparison",),
                "",
                str(comparison),
                {
                    name: (label, getattr(comparison, name))
                    for name, label in [
                        ("title", gettext("Title")),
                        ("slug", gettext("Address")),
                        ("subtitle", gettext("Subtitle")),
                        ("category", gettext("Category")),
                        ("meta_description", gettext("Meta description")),
                        ("quick_verdict", gettext("Quick verdict")),
                        ("recommendation", gettext("Recommendation")),
                    ]
                },
            )
        ]
        participants = sorted(self.participants, key=lambda p: (p.position, p.pk))
        names = {p.pk: p.framework.name for p in participants}
        for participant in participants:
            recommended = gettext("yes") if participant.is_recommended else gettext("no")
            parts = {
                "name": (gettext("framework"), names[participant.pk]),
                "recommended": (gettext("recommended"), recommended),
            }
            # Parts only when set: a version added reads "added", one cleared "removed".
            # The keys stay English (they match parts across versions); the labels are read.
            labels = {"Version": gettext("version"), "As of": gettext("as of")}
            for label, value in version_parts(participant):
                parts[label.lower()] = (labels[label], value)
            # Reasons have no identity of their own: a line is matched by its text
            # (and its rank among equal lines), so an edited line is one removed, one added.
            seen = {}
            for line in participant.choose_when_items():
                seen[line] = seen.get(line, 0) + 1
                parts[("choose_when", line, seen[line])] = (gettext("choose it when"), line)
            rows.append(
                Row(
                    ("participant", participant.pk),
                    gettext("Framework"),
                    names[participant.pk],
                    parts,
                )
            )
        texts = {(a.factor_id, a.participant_id): a.text for a in self.assessments}
        for factor in sorted(self.factors, key=lambda f: (f.position, f.pk)):
            parts = {
                "name": (gettext("name"), factor.name),
                "winner": (gettext("winner"), decision_label(factor, names)),
            }
            for participant in participants:
                text = texts.get((factor.pk, participant.pk))
                if text is not None:
                    label = gettext("%(framework)s assessment") % {
                        "framework": names[participant.pk]
                    }
                    parts[("assessment", participant.pk)] = (label, text)
            rows.append(Row(("factor", factor.pk), gettext("Factor"), factor.name, parts))
        for statistic in sorted(self.statistics, key=lambda s: (s.position, s.pk)):
            parts = {
                name: (label, "" if value is None else str(value))
                for name, label, value in [
                    ("value", gettext("value"), statistic.value),
                    ("description", gettext("description"), statistic.description),
                    ("source_name", gettext("source"), statistic.source_name),
                    ("source_url", gettext("source link"), statistic.source_url),
                    ("year", gettext("year"), statistic.year),
                ]
            }
            name = statistic.description or statistic.value
            rows.append(Row(("statistic", statistic.pk), gettext("Statistic"), name, parts))
        return rows


@dataclass(frozen=True)
class Change:
    """One difference an editor reads: a part changed, a row renamed, added or removed,
    or rows put in another order."""

    kind: str  # "changed", "renamed", "reordered", "added" or "removed"
    label: str
    old: str = ""
    new: str = ""
    details: tuple = ()  # an added or removed row's parts, as (label, value) pairs

    @property
    def is_edit(self):
        """Whether this reads "old → new" (the rest is a row or a line added or removed)."""
        return self.kind in ("changed", "renamed", "reordered")

    def __str__(self):
        if self.kind in ("renamed", "reordered"):
            return f"{self.label} {self.kind}: {self.old} → {self.new}"
        if self.kind == "changed":
            return f"{self.label}: {self.old} → {self.new}"
        value = self.new if self.kind == "added" else self.old
        return f"{self.kind.capitalize()}: {self.label}" + (f": {value}" if value else "")


@dataclass
class Section:
    """The changes to one part of the page ("Factors"), for a heading of their own."""

    title: str
    changes: list = field(default_factory=list)


def row_changes(old, new):
    """How row ``old`` became row ``new`` (the same row in two versions), part by part."""
    changes = []
    for key, (label, value) in new.parts.items():
        if key not in old.parts:
            changes.append(Change("added", new.part_label(label), new=value))
        elif old.parts[key][1] == value:
            continue
        elif key == "name":
            changes.append(Change("renamed", new.kind, old.parts[key][1], value))
        else:
            changes.append(Change("changed", new.part_label(label), old.parts[key][1], value))
    for key, (label, value) in old.parts.items():
        if key not in new.parts:
            changes.append(Change("removed", new.part_label(label), old=value))
    return changes


def whole_row(kind, row):
    """A row added or removed: named once, with all its other parts as details."""
    details = tuple((label, value) for key, (label, value) in row.parts.items() if key != "name")
    return Change(kind, row.label, details=details)


def reordering(section, old_rows, new_rows):
    """The rows of a section kept in both versions but in another order, as one change.

    Positions are not compared: they are renumbered when a row is added or
    removed, which moves no other row on the page.
    """
    kept = [key for key in old_rows if key[0] == section and key in new_rows]
    now = [key for key in new_rows if key[0] == section and key in old_rows]
    if kept == now:
        return []
    names = ", ".join
    old = names(old_rows[key].name for key in kept)
    new = names(new_rows[key].name for key in now)
    return [Change("reordered", SECTIONS[section], old, new)]


def changes_between(before, after):
    """What changed from snapshot ``before`` to ``after``, in sections in page order.

    Rows still in ``after`` come in its order; rows gone come after them, in
    their old order. Sections without changes are left out.
    """
    old_rows = {row.key: row for row in before.rows()}
    new_rows = {row.key: row for row in after.rows()}
    sections = {key: Section(title) for key, title in SECTIONS.items()}
    for key in SECTIONS:
        sections[key].changes.extend(reordering(key, old_rows, new_rows))
    for key, row in new_rows.items():
        changes = sections[key[0]].changes
        if key in old_rows:
            changes.extend(row_changes(old_rows[key], row))
        else:
            changes.append(whole_row("added", row))
    for key, row in old_rows.items():
        if key not in new_rows:
            sections[key[0]].changes.append(whole_row("removed", row))
    return [section for section in sections.values() if section.changes]


def version_diff(old, new=None, comparison=None):
    """What changed from version ``old`` to ``new``; without ``new``, to ``comparison`` now."""
    after = Snapshot.of_version(new) if new is not None else Snapshot.of_page(comparison)
    return changes_between(Snapshot.of_version(old), after)


def restore_preview(comparison, version):
    """What restoring ``version`` would change on ``comparison`` as it is now."""
    return changes_between(Snapshot.of_page(comparison), Snapshot.of_version(version))


@transaction.atomic
def restore_version(comparison, version, *, user):
    """Bring back the comparison's content as it was in ``version``, child rows included.

    Rows deleted since come back, rows added since go, and the restore is itself
    a new revision saying who restored which version. Publishing state and the
    last review stay as they are now. Returns the restored comparison.
    """
    kept = {name: getattr(comparison, name) for name in KEPT_ON_RESTORE}
    slug_before = comparison.slug
    # A framework added since may have won factors, and Factor.winner RESTRICTs
    # deleting it: clear the decisions first; the revert writes back the old ones.
    Factor.objects.filter(comparison=comparison).update(winner=None)
    with reversion.create_revision():
        version.revision.revert(delete=True)
        restored = Comparison.objects.get(pk=comparison.pk)
        for name, value in kept.items():
            setattr(restored, name, value)
        restored.save()
        reversion.add_to_revision(restored)
        reversion.set_user(user)
        reversion.set_comment(restored_message(version))
    if restored.slug != slug_before:
        OldSlug.objects.remember(restored, slug_before)
    if restored.status == Comparison.Status.PUBLISHED and restored.publication_problems():
        restored.unpublish()
    restored.refresh_content_dates(baseline=False)
    return restored


def restored_message(version):
    """What the history and the editor are told after ``version`` was restored."""
    message = gettext("Restored the version saved on %(version)s.")
    return message % {"version": version_name(version)}
