"""Plain factory functions with sensible defaults, one per model."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from comparisons.models import (
    Assessment,
    Comparison,
    Factor,
    Framework,
    Participant,
    Statistic,
)

_sequence = itertools.count(1)

# Every user's password unless a test gives another: long enough for the validators.
PASSWORD = "correct-horse-battery-staple"


def make_framework(name=None, **fields):
    number = next(_sequence)
    name = name or f"Framework {number}"
    fields.setdefault("slug", name.lower().replace(" ", "-").replace(".", ""))
    return Framework.objects.create(name=name, **fields)


def make_comparison(frameworks=None, *, factors=0, statistics=0, published=True, **fields):
    """A comparison of ``frameworks`` (made if not given) with ``factors`` decided factors.

    Factor n is won by framework n modulo the number of frameworks.
    """
    number = next(_sequence)
    frameworks = frameworks or [make_framework(), make_framework()]
    fields.setdefault("title", " vs ".join(f.name for f in frameworks) + f" #{number}")
    fields.setdefault("slug", f"comparison-{number}")
    fields.setdefault("quick_verdict", "A clear verdict.")
    fields.setdefault("meta_description", "What search engines show.")
    if published:
        fields.setdefault("status", Comparison.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - timezone.timedelta(hours=1))
    comparison = Comparison.objects.create(**fields)
    participants = [
        Participant.objects.create(comparison=comparison, framework=framework, position=position)
        for position, framework in enumerate(frameworks, start=1)
    ]
    for position in range(1, factors + 1):
        winner = participants[(position - 1) % len(participants)]
        make_factor(comparison, participants, position=position, winner=winner)
    for position in range(1, statistics + 1):
        make_statistic(comparison, position=position)
    return comparison


def make_factor(comparison, participants=None, *, winner=None, is_tie=False, **fields):
    participants = participants or list(comparison.participants.all())
    fields.setdefault("position", comparison.factors.count() + 1)
    fields.setdefault("name", f"Factor {fields['position']}")
    factor = Factor.objects.create(comparison=comparison, winner=winner, is_tie=is_tie, **fields)
    for participant in participants:
        Assessment.objects.create(
            factor=factor, participant=participant, text=f"{participant.framework.name} is fine."
        )
    return factor


def make_statistic(comparison, **fields):
    fields.setdefault("value", "42%")
    fields.setdefault("description", "of teams surveyed use it")
    fields.setdefault("source_name", "Example Survey")
    fields.setdefault("source_url", "https://example.org/survey")
    fields.setdefault("year", 2026)
    return Statistic.objects.create(comparison=comparison, **fields)


def make_user(username="person", *, password=None, groups=(), **fields):
    user = get_user_model().objects.create_user(
        username=username, password=password or PASSWORD, **fields
    )
    for group in groups:
        user.groups.add(group)
    return user


def editors_group():
    """The Editors group as the migrations leave it: the comparisons models and publishing."""
    return Group.objects.get(name="Editors")


def make_consultation(*, windows=(), **fields):
    """A consultation request received now (or at ``received_at``), about a topic."""
    from consultations.models import ConsultationRequest, PreferredWindow

    number = next(_sequence)
    fields.setdefault("name", f"Visitor {number}")
    fields.setdefault("email", f"visitor{number}@example.com")
    fields.setdefault("message", "Which framework should we pick for our first model?")
    if "comparison" not in fields:
        fields.setdefault("topic", "Choosing a framework")
    consultation = ConsultationRequest.objects.create(**fields)
    for start in windows:
        PreferredWindow.objects.create(request=consultation, starts_at=start)
    return consultation


def make_staff(username, *, group=None, groups=(), permissions=(), **fields):
    """A staff user in the named group ("Triage" or "Editors", made by the migrations),
    or in ``groups``, with extra "app.codename" ``permissions``."""
    groups = [*groups, *([Group.objects.get(name=group)] if group else [])]
    fields.setdefault("email", f"{username}@compare.example")
    user = make_user(username, is_staff=True, groups=groups, **fields)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_hours(person, *, weekdays=range(5), starts="09:00", ends="17:00", tz="UTC"):
    """``person``'s weekly working hours: the same stretch on each of ``weekdays``, in
    ``tz``, which becomes their timezone (StaffTimezone)."""
    from datetime import time

    from consultations.models import StaffTimezone, WorkingHours

    StaffTimezone.objects.update_or_create(user=person, defaults={"timezone": tz})
    return [
        WorkingHours.objects.create(
            person=person,
            weekday=weekday,
            starts=time.fromisoformat(starts),
            ends=time.fromisoformat(ends),
        )
        for weekday in weekdays
    ]


def make_consultant(username="connie", **hours):
    """A staff member in the Consultants group with working hours (make_hours)."""
    consultant = make_staff(username, group="Consultants")
    make_hours(consultant, **hours)
    return consultant
