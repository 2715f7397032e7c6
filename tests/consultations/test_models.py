"""The request's clock, its statuses and its audit trail."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    InvalidTransition,
    format_local,
    format_short,
    new_reference,
)
from tests.factories import make_consultation, make_user

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

Status = ConsultationRequest.Status
RECEIVED = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


class TestTheClock:
    def test_respond_by_is_24_hours_after_arrival_and_never_moves(self):
        request = make_consultation(received_at=RECEIVED)
        assert request.respond_by == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
        request.received_at = RECEIVED + timedelta(hours=5)
        request.save()
        request.refresh_from_db()
        assert request.respond_by == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)

    def test_on_time_at_23_59_59(self):
        request = make_consultation(received_at=RECEIVED)
        now = RECEIVED + timedelta(hours=23, minutes=59, seconds=59)
        assert not request.is_overdue(now)
        assert not ConsultationRequest.objects.overdue(now).exists()
        assert request.due_label(now) == "Due in 0 min"

    def test_on_time_at_exactly_24_00_00(self):
        request = make_consultation(received_at=RECEIVED)
        assert not request.is_overdue(RECEIVED + timedelta(hours=24))
        assert not ConsultationRequest.objects.overdue(RECEIVED + timedelta(hours=24)).exists()

    def test_overdue_at_24_00_01(self):
        request = make_consultation(received_at=RECEIVED)
        now = RECEIVED + timedelta(hours=24, seconds=1)
        assert request.is_overdue(now)
        assert list(ConsultationRequest.objects.overdue(now)) == [request]

    def test_a_contacted_request_is_never_overdue(self, triager):
        request = make_consultation(received_at=RECEIVED)
        request.mark_contacted(by=triager)
        assert not ConsultationRequest.objects.overdue(RECEIVED + timedelta(days=3)).exists()
        assert request.due_label(RECEIVED + timedelta(days=3)) == "Answered"

    def test_due_within_and_badges(self):
        soon = make_consultation(received_at=RECEIVED)
        later = make_consultation(received_at=RECEIVED + timedelta(hours=10))
        now = RECEIVED + timedelta(hours=21)
        assert list(ConsultationRequest.objects.due_within(4, now)) == [soon]
        assert soon.due_label(now) == "Due in 3 h"
        assert later.due_label(now) == "Due in 13 h"
        assert soon.due_label(RECEIVED + timedelta(hours=27)) == "Overdue by 3 h"

    def test_badges_and_refused_changes_in_german(self):
        """A German-speaking triager reads the badge and the refusal in German."""
        request = make_consultation(received_at=RECEIVED)
        with translation.override("de"):
            assert request.due_label(RECEIVED + timedelta(hours=21)) == "Fällig in 3 Std."
            assert request.due_label(RECEIVED + timedelta(hours=24, minutes=20)) == (
                "Seit 20 Min. überfällig"
            )
            with pytest.raises(InvalidTransition) as refused:
                request.check_transition(Status.COMPLETED)
        assert refused.value.messages == [
            "Eine Anfrage mit dem Status „neu“ kann nicht zu „abgeschlossen“ wechseln."
        ]

    def test_unassigned_and_open(self, triager):
        mine = make_consultation()
        mine.assign(to=triager, by=triager)
        nobody = make_consultation()
        spam = make_consultation()
        spam.transition(Status.SPAM, by=triager)
        assert list(ConsultationRequest.objects.unassigned().open()) == [nobody]

    def test_reply_by_reads_in_the_visitors_timezone(self):
        request = make_consultation(received_at=RECEIVED, timezone="Europe/Paris")
        assert request.respond_by_local() == "Wednesday 25 November 2026, 15:30 CET"
        assert format_local(RECEIVED, "America/New_York") == "Tuesday 24 November 2026, 09:30 EST"

    def test_the_short_time_reads_as_the_date_filter_writes_it_in_each_language(self):
        assert format_short(RECEIVED, "America/New_York") == "Tue 24 Nov 09:30"
        with translation.override("de"):
            assert format_short(RECEIVED, "Europe/Berlin") == "Di, 24. Nov 15:30"
        # Every weekday and month, in every language the admin speaks.
        moments = [RECEIVED + timedelta(days=days, hours=days) for days in range(0, 366, 5)]
        for language in ("en", "de"):
            with translation.override(language), timezone.override("Asia/Kolkata"):
                short = translation.pgettext("short date and time", "D j M H:i")
                for moment in moments:
                    written = date_filter(timezone.localtime(moment), short)
                    assert format_short(moment, "Asia/Kolkata") == written


class TestReference:
    def test_references_are_random_and_ten_characters(self):
        references = {new_reference() for _ in range(200)}
        assert len(references) == 200
        assert all(len(r) == 10 and r.isalnum() and r.isupper() for r in references)

    def test_two_requests_do_not_get_consecutive_references(self):
        first, second = make_consultation(), make_consultation()
        assert first.reference != second.reference
        assert not first.reference.isdigit()

    def test_unknown_timezones_are_refused(self):
        request = make_consultation()
        request.timezone = "Mars/Olympus_Mons"
        with pytest.raises(ValidationError) as error:
            request.full_clean()
        assert "timezone" in error.value.message_dict


class TestTransitions:
    def test_invalid_transitions_are_refused_with_a_message(self, triager):
        request = make_consultation()
        request.transition(Status.DECLINED, by=triager)
        with pytest.raises(InvalidTransition, match="declined cannot become contacted"):
            request.transition(Status.CONTACTED, by=triager)
        request.refresh_from_db()
        assert request.status == Status.DECLINED
        assert request.events.filter(kind=AuditEvent.Kind.STATUS).count() == 1

    def test_completed_is_final(self, triager):
        request = make_consultation()
        request.mark_contacted(by=triager)
        request.transition(Status.COMPLETED, by=triager)
        for status in Status.values:
            assert not request.can_transition(status)

    def test_scheduling_needs_a_slot(self, triager):
        request = make_consultation()
        with pytest.raises(InvalidTransition, match="slot"):
            request.transition(Status.SCHEDULED, by=triager)

    def test_the_database_refuses_an_unknown_status(self):
        request = make_consultation()
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsultationRequest.objects.filter(pk=request.pk).update(status="lost")

    def test_the_database_refuses_scheduled_without_a_slot(self):
        request = make_consultation()
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsultationRequest.objects.filter(pk=request.pk).update(status="scheduled")

    def test_the_database_refuses_contacted_without_a_first_response(self):
        request = make_consultation()
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsultationRequest.objects.filter(pk=request.pk).update(status="contacted")

    def test_the_database_refuses_a_duplicate_of_on_another_status(self):
        original, request = make_consultation(), make_consultation()
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsultationRequest.objects.filter(pk=request.pk).update(duplicate_of=original)

    def test_becoming_contacted_records_the_first_response_once(self):
        request = make_consultation()
        triager = make_user()
        request.transition(Status.CONTACTED, by=triager)
        request.refresh_from_db()
        first = request.first_response_at
        assert first is not None
        kinds = list(request.events.values_list("kind", flat=True))
        assert kinds == [AuditEvent.Kind.CONTACT, AuditEvent.Kind.STATUS]
        request.transition(Status.DECLINED, by=triager)
        assert request.first_response_at == first

    def test_a_reopened_duplicate_no_longer_names_the_original(self):
        original, request = make_consultation(), make_consultation()
        request.mark_duplicate(of=original, by=None)
        assert request.duplicate_of == original
        request.transition(Status.NEW, by=None)
        request.refresh_from_db()
        assert request.duplicate_of is None

    def test_mark_contacted_sets_first_response_only_once(self, triager):
        request = make_consultation()
        request.mark_contacted(by=triager)
        first = request.first_response_at
        assert request.status == Status.CONTACTED
        request.mark_contacted(by=triager)
        request.refresh_from_db()
        assert request.first_response_at == first
        assert request.events.filter(kind=AuditEvent.Kind.CONTACT).count() == 2

    def test_spam_cannot_be_contacted(self, triager):
        request = make_consultation()
        request.transition(Status.SPAM, by=None)
        with pytest.raises(InvalidTransition):
            request.mark_contacted(by=triager)
        request.refresh_from_db()
        assert request.first_response_at is None


class TestAuditTrail:
    def test_every_change_is_kept_with_who_when_from_and_to(self):
        alice, bob = make_user("alice"), make_user("bob")
        request = make_consultation()
        request.assign(to=alice, by=alice)
        request.assign(to=bob, by=alice)
        request.mark_contacted(by=bob, note="Phoned, left a message")
        request.add_note("Prefers mornings", by=bob)
        request.transition(Status.DECLINED, by=bob)
        trail = [
            (e.actor.username, e.kind, e.from_value, e.to_value, e.note)
            for e in request.events.select_related("actor")
        ]
        assert trail == [
            ("alice", "assignee", "", "alice", ""),
            ("alice", "assignee", "alice", "bob", ""),
            ("bob", "contact", "", "", "Phoned, left a message"),
            ("bob", "status", "new", "contacted", ""),
            ("bob", "note", "", "", "Prefers mornings"),
            ("bob", "status", "contacted", "declined", ""),
        ]
        assert all(e.at is not None for e in request.events.all())

    def test_assigning_the_same_person_again_records_nothing(self):
        alice = make_user("alice")
        request = make_consultation()
        request.assign(to=alice, by=alice)
        request.assign(to=alice, by=alice)
        assert request.events.count() == 1

    def test_duplicates_point_at_the_earlier_request(self):
        first = make_consultation(email="same@example.com", received_at=RECEIVED)
        second = make_consultation(
            email="Same@example.com", received_at=RECEIVED + timedelta(hours=1)
        )
        second.mark_duplicate(of=second.earlier_request(), by=None)
        second.refresh_from_db()
        assert second.status == Status.DUPLICATE
        assert second.duplicate_of == first
        assert second.events.get().note == f"Duplicate of {first.reference}"
