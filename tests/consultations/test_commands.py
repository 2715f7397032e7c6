"""The due-warning command: each warning once, to the right people."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from consultations.models import DueWarning, OutgoingEmail
from consultations.services import warn_due_requests
from tests.factories import make_consultation, make_staff

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def run():
    out = io.StringIO()
    call_command("warn_due_requests", stdout=out)
    return out.getvalue()


class TestWarnDueRequests:
    def test_warns_the_assignee_once_when_due_within_4_hours(self, triager):
        owner = make_staff("olga")
        request = make_consultation(received_at=timezone.now() - timedelta(hours=21))
        request.assign(to=owner, by=triager)
        make_consultation(received_at=timezone.now() - timedelta(hours=19))  # 5 h left: quiet

        assert run() == "Queued 1 warning(s).\n"
        assert run() == "Queued 0 warning(s).\n"
        (warning,) = OutgoingEmail.objects.all()
        assert warning.to == owner.email
        assert request.reference in warning.subject and "Due in 2 h" in warning.subject
        assert DueWarning.objects.get().kind == DueWarning.Kind.DUE_SOON

    @pytest.mark.usefixtures("editor")
    def test_warns_the_triage_group_when_unassigned_and_again_once_when_overdue(self):
        alice = make_staff("alice", group="Triage")
        bob = make_staff("bob", group="Triage")
        received = timezone.now() - timedelta(hours=21)
        request = make_consultation(received_at=received)

        assert warn_due_requests(now=timezone.now()) == 1
        assert warn_due_requests(now=timezone.now()) == 0
        # One email to each triager (with an address); none to editors.
        assert OutgoingEmail.objects.count() == 2
        assert set(OutgoingEmail.objects.values_list("to", flat=True)) == {alice.email, bob.email}

        overdue_at = request.respond_by + timedelta(seconds=1)
        assert warn_due_requests(now=overdue_at) == 1
        assert warn_due_requests(now=overdue_at + timedelta(hours=5)) == 0
        kinds = sorted(DueWarning.objects.values_list("kind", flat=True))
        assert kinds == ["due_soon", "overdue"]
        assert OutgoingEmail.objects.filter(subject__startswith="Overdue by").count() == 2

    def test_answered_and_closed_requests_get_no_warning(self, triager):
        answered = make_consultation(received_at=timezone.now() - timedelta(hours=30))
        answered.mark_contacted(by=triager)
        spam = make_consultation(received_at=timezone.now() - timedelta(hours=30))
        spam.transition("spam", by=triager)
        assert warn_due_requests() == 0
        assert not OutgoingEmail.objects.exists()
