"""Real free slots: consultants' hours minus time off minus held slots, picked on the
booking form, held for one visitor only, and the staff Schedule form's rules."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations import slots
from consultations.forms import slot_value
from consultations.models import (
    ConsultationRequest,
    PreferredWindow,
    SlotHold,
    SlotTaken,
    StaffTimezone,
    TimeOff,
    offered_timezone_names,
)
from tests.clock import FIXED_NOW
from tests.consultations.helpers import booking_data
from tests.factories import make_consultant, make_consultation, make_hours, make_staff
from tests.support.pages import page_text

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

BOOK_URL = reverse("consultations:book")
TUESDAY = FIXED_NOW  # Tuesday 24 November 2026, 09:00 UTC


def utc(day, hour, minute=0):
    """A moment in November/December 2026, in UTC: utc(26, 15) is 26 November 15:00."""
    month = 11 if day >= 24 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def fixed_clock(time_machine):
    time_machine.move_to(FIXED_NOW, tick=False)


def slot_booking(*starts, **overrides):
    """booking_data() for the free-slot form: the picked starts instead of windows."""
    data = booking_data(**overrides)
    for name in ("window_1", "window_2", "window_3"):
        data.pop(name)
    data["slots"] = [slot_value(start) for start in starts]
    return data


def test_the_consultants_group_is_made_by_the_migrations():
    consultants = Group.objects.get(name="Consultants")
    codenames = set(consultants.permissions.values_list("codename", flat=True))
    assert {"add_workinghours", "change_timeoff", "view_slothold"} <= codenames
    assert "change_consultationrequest" not in codenames


def test_the_timezone_list_drops_legacy_aliases():
    names = offered_timezone_names()
    assert "Europe/London" in names and "America/New_York" in names and "UTC" in names
    for legacy in ("GB-Eire", "W-SU", "US/Eastern", "Etc/GMT+5", "Factory", "localtime"):
        assert legacy not in names
    assert list(names[1:]) == sorted(names[1:])


class TestFreeSlots:
    @pytest.fixture(autouse=True)
    def clock(self, fixed_clock):
        pass

    def test_no_published_hours_means_no_slot_offer(self):
        make_staff("nobody", group="Consultants")
        assert slots.free_slots() is None

    def test_hours_minus_time_off_minus_held_slots(self):
        connie = make_consultant(tz="Europe/London")  # Mon–Fri 09:00–17:00, UTC in winter
        TimeOff.objects.create(person=connie, starts_at=utc(26, 0), ends_at=utc(27, 0))
        SlotHold.objects.take(
            consultant_id=connie.pk, request=make_consultation(), starts_at=utc(25, 10)
        )
        free = slots.free_slots()
        starts = list(free)
        # Two hours' notice: 11:00 today is the first; the horizon (4 weeks) the last.
        assert starts[0] == utc(24, 11)
        assert starts[-1] == TUESDAY + timedelta(weeks=4)
        assert utc(24, 16, 30) in free and utc(24, 17) not in free
        assert utc(25, 9, 30) in free and utc(25, 10) not in free and utc(25, 10, 30) in free
        assert not [s for s in starts if s.date() == utc(26, 0).date()]  # time off
        assert not [s for s in starts if s.weekday() >= 5]
        assert all(free[s] == [connie.pk] for s in starts)
        # 19 weekdays of 16 slots, minus the held one and the day off, plus the first day's 12.
        assert len(starts) == 12 + (19 - 1) * 16 - 1 + 1

    def test_hours_are_read_in_the_consultants_timezone(self):
        make_consultant(tz="America/New_York", weekdays=[2])  # Wednesdays 09:00 EST
        assert list(slots.free_slots())[0] == utc(25, 14)

    def test_a_slot_one_consultant_holds_stays_free_with_another(self):
        connie = make_consultant("connie")
        colin = make_consultant("colin")
        SlotHold.objects.take(
            consultant_id=connie.pk, request=make_consultation(), starts_at=utc(25, 10)
        )
        assert slots.free_slots()[utc(25, 10)] == [colin.pk]

    def test_an_inactive_consultant_offers_nothing(self):
        connie = make_consultant()
        connie.is_active = False
        connie.save()
        assert slots.free_slots() is None


class TestOneVisitorPerSlot:
    def test_the_database_refuses_an_overlapping_hold(self, fixed_clock):
        connie = make_consultant()
        first, second = make_consultation(), make_consultation()
        SlotHold.objects.take(consultant_id=connie.pk, request=first, starts_at=utc(25, 10))
        with pytest.raises(SlotTaken):
            SlotHold.objects.take(consultant_id=connie.pk, request=second, starts_at=utc(25, 10))
        if connection.vendor == "postgresql":
            # Written past take(), a quarter-hour overlap is refused by PostgreSQL itself
            # (SQLite has no such constraint: take() alone guards it there).
            with pytest.raises(IntegrityError), transaction.atomic():
                SlotHold.objects.create(
                    consultant=connie,
                    request=second,
                    starts_at=utc(25, 10, 15),
                    ends_at=utc(25, 10, 45),
                )
        # Back to back is fine, as is another consultant at the same time.
        SlotHold.objects.take(consultant_id=connie.pk, request=second, starts_at=utc(25, 10, 30))
        colin = make_consultant("colin")
        SlotHold.objects.take(consultant_id=colin.pk, request=second, starts_at=utc(25, 10))
        assert SlotHold.objects.count() == 3

    def test_closing_or_cancelling_a_request_frees_its_slots(self, fixed_clock, triager):
        connie = make_consultant()
        declined, scheduled = make_consultation(), make_consultation()
        SlotHold.objects.take(consultant_id=connie.pk, request=declined, starts_at=utc(25, 10))
        declined.transition(ConsultationRequest.Status.DECLINED, by=triager)
        assert not declined.slot_holds.exists()
        scheduled.schedule(utc(25, 11), by=triager)
        slots.hold_scheduled_slot(consultation=scheduled, start=utc(25, 11))
        assert scheduled.slot_holds.get().starts_at == utc(25, 11)
        scheduled.cancel_slot(by=None)
        assert not scheduled.slot_holds.exists()
        assert utc(25, 10) in slots.free_slots() and utc(25, 11) in slots.free_slots()


class TestBookingFreeSlots:
    """Ada, in New York, picks free slots; Bob sends the same slot a moment later."""

    @pytest.fixture(autouse=True)
    def clock(self, fixed_clock, settings):
        settings.CONSULTATION_MIN_FILL_SECONDS = 0

    @pytest.fixture
    def connie(self):
        return make_consultant(tz="Europe/London")

    def test_the_form_offers_the_free_slots_in_the_visitors_timezone(self, client, connie):
        response = client.get(BOOK_URL, {"timezone": "America/New_York"})
        body = response.content.decode()
        text = page_text(response)
        assert 'name="window_1"' not in body
        # 11:00 UTC on Tuesday 24 November is 06:00 in New York.
        first = re.search(r'<input type="checkbox" name="slots" value="([^"]+)" id="([^"]+)"', body)
        assert first.group(1) == "2026-11-24T11:00Z"
        assert "Tuesday 24 November (12 free)" in text
        assert re.search(rf'<label for="{first.group(2)}">06:00', body)
        assert '<input type="text" name="timezone" value="America/New_York"' in body

    def test_a_visitor_books_a_free_slot_and_it_is_held(self, client, connie):
        response = client.post(
            BOOK_URL, slot_booking(utc(25, 15), utc(26, 9), timezone="America/New_York")
        )
        assert response.status_code == 302
        consultation = ConsultationRequest.objects.get()
        assert consultation.timezone == "America/New_York"
        assert list(PreferredWindow.objects.values_list("starts_at", flat=True)) == [
            utc(25, 15),
            utc(26, 9),
        ]
        assert [(h.consultant, h.starts_at) for h in SlotHold.objects.all()] == [
            (connie, utc(25, 15)),
            (connie, utc(26, 9)),
        ]
        assert utc(25, 15) not in slots.free_slots()

    def test_a_slot_taken_meanwhile_keeps_everything_typed(self, client, connie, monkeypatch):
        # Bob's request reads the free slots just before Ada's booking commits.
        before_ada = slots.free_slots()
        client.post(BOOK_URL, slot_booking(utc(25, 15), email="ada@example.com"))
        real_free_slots = slots.free_slots
        reads = iter([before_ada])
        monkeypatch.setattr(slots, "free_slots", lambda: next(reads, None) or real_free_slots())
        response = client.post(
            BOOK_URL,
            slot_booking(utc(25, 15), utc(25, 16), name="Bob Babbage", email="bob@example.com"),
        )
        assert response.status_code == 409
        text = page_text(response)
        assert "That slot was just taken — pick another; everything you typed is kept" in text
        body = response.content.decode()
        assert 'value="Bob Babbage"' in body
        # Bob's other pick is still ticked, described by the rules and the message.
        assert re.search(
            r'value="2026-11-25T16:00Z"[^>]*aria-describedby="slot-rules id_slots_error" checked>',
            body,
        )
        assert 'value="2026-11-25T15:00Z"' not in body
        assert ConsultationRequest.objects.count() == 1
        assert SlotHold.objects.count() == 1

    def test_a_visitor_picks_one_to_three_slots(self, client, connie):
        response = client.post(BOOK_URL, slot_booking())
        assert "Pick at least one time that suits you." in page_text(response)
        four = [utc(25, 9), utc(25, 10), utc(25, 11), utc(25, 12)]
        response = client.post(BOOK_URL, slot_booking(*four))
        assert "Pick at most 3 times." in page_text(response)
        response = client.post(BOOK_URL, slot_booking(utc(28, 10)))  # a Saturday
        assert response.status_code == 409
        assert "That slot was just taken — pick another; everything you typed is kept." in (
            page_text(response)
        )
        assert not ConsultationRequest.objects.exists()

    def test_show_times_keeps_what_was_typed_without_errors(self, client, connie):
        data = slot_booking(utc(25, 15), timezone="Asia/Tokyo", show_times="1", message="")
        response = client.post(BOOK_URL, data)
        assert response.status_code == 200
        assert "Please check" not in page_text(response)
        body = response.content.decode()
        assert 'value="Ada Lovelace"' in body
        assert re.search(r'value="2026-11-25T15:00Z"[^>]* checked>', body)
        # 15:00 UTC is midnight in Tokyo, on Thursday.
        assert "Thursday 26 November" in page_text(response)
        assert not ConsultationRequest.objects.exists()

    def test_without_published_hours_the_windows_stay(self, client):
        make_staff("nobody", group="Consultants")
        body = client.get(BOOK_URL).content.decode()
        assert 'name="window_1"' in body and 'name="slots"' not in body


class TestTheFormForEveryone:
    @pytest.fixture(autouse=True)
    def clock(self, fixed_clock):
        pass

    def test_a_failed_submit_lists_and_links_each_error_first(self, client):
        response = client.post(BOOK_URL, booking_data(name="", email="ada.example.com"))
        body = response.content.decode()
        summary = body[
            body.index('id="error-summary"') : body.index(
                "</div>", body.index('id="error-summary"')
            )
        ]
        assert body.index('id="error-summary"') < body.index("<h1")
        assert (
            'tabindex="-1"'
            in body[body.index('<div class="notice notice--error error-summary"') :][:200]
        )
        assert '<a href="#id_name">Your name: This field is required.</a>' in summary
        assert '<a href="#id_email">Email address: Enter a valid email address.</a>' in summary

    @pytest.mark.parametrize("offer_slots", [False, True])
    def test_the_slot_rules_describe_every_slot_field(self, client, offer_slots):
        if offer_slots:
            make_consultant()
        body = client.get(BOOK_URL).content.decode()
        assert re.search(r'<p class="form-text" id="slot-rules">', body)
        fields = re.findall(r'<input[^>]*name="(?:window_\d|slots)"[^>]*>', body)
        assert len(fields) == (3 if not offer_slots else len(slots.free_slots()))
        assert all('aria-describedby="slot-rules"' in field for field in fields)

    def test_the_honeypot_is_hidden_from_assistive_technology(self, client):
        body = client.get(BOOK_URL).content.decode()
        wrapper = re.search(r'<div[^>]*class="hp-field"[^>]*>', body).group(0)
        assert 'aria-hidden="true"' in wrapper
        field = re.search(r'<input[^>]*name="website"[^>]*>', body).group(0)
        assert 'tabindex="-1"' in field and 'autocomplete="off"' in field


class TestScheduleForm:
    """Tess schedules a visitor in New York; the consultant works Mon–Fri 09:00–17:00 UTC."""

    @pytest.fixture(autouse=True)
    def clock(self, fixed_clock):
        pass

    @pytest.fixture
    def consultation(self):
        return make_consultation(timezone="America/New_York", windows=[utc(25, 15)])

    def url(self, consultation):
        return reverse("admin:consultations_consultationrequest_schedule", args=[consultation.pk])

    def test_a_time_outside_working_hours_needs_a_tick(self, client, triager, consultation):
        make_consultant()
        client.force_login(triager)
        response = client.post(self.url(consultation), {"other": "2026-11-25T20:00"})
        text = page_text(response)
        assert (
            "Wednesday 25 November 2026, 20:00 UTC (Wednesday 25 November 2026, 15:00 EST for "
            "the visitor) is outside every consultant's working hours" in text
        )
        consultation.refresh_from_db()
        assert consultation.scheduled_start is None
        response = client.post(
            self.url(consultation), {"other": "2026-11-25T20:00", "outside_hours": "on"}
        )
        assert response.status_code == 302
        consultation.refresh_from_db()
        assert consultation.scheduled_start == utc(25, 20)
        assert not consultation.slot_holds.exists()  # nobody works then

    def test_scheduling_holds_the_slot_and_frees_the_others(self, client, triager, consultation):
        connie = make_consultant()
        SlotHold.objects.take(consultant_id=connie.pk, request=consultation, starts_at=utc(25, 15))
        SlotHold.objects.take(consultant_id=connie.pk, request=consultation, starts_at=utc(26, 9))
        client.force_login(triager)
        response = client.post(
            self.url(consultation), {"window": utc(25, 15).isoformat()}, follow=True
        )
        assert "Scheduled" in page_text(response)
        assert "(Wednesday 25 November 2026, 10:00 EST for the visitor)" in page_text(response)
        assert list(consultation.slot_holds.values_list("starts_at", flat=True)) == [utc(25, 15)]

    def test_a_slot_held_for_another_request_is_refused(self, client, triager, consultation):
        connie = make_consultant()
        SlotHold.objects.take(
            consultant_id=connie.pk, request=make_consultation(), starts_at=utc(25, 16)
        )
        client.force_login(triager)
        response = client.post(self.url(consultation), {"other": "2026-11-25T16:00"})
        assert "already has this slot for another request" in page_text(response)
        consultation.refresh_from_db()
        assert consultation.scheduled_start is None

    def test_the_form_shows_the_visitors_offset_and_stops_at_the_horizon(
        self, client, triager, consultation
    ):
        client.force_login(triager)
        response = client.get(self.url(consultation))
        body = response.content.decode()
        assert 'min="2026-11-24T09:00" max="2026-12-22T09:00"' in body
        assert "America/New_York (UTC-05:00 now)" in page_text(response)
        response = client.post(self.url(consultation), {"other": "2026-12-22T09:30"})
        assert "Pick a slot within the next 4 weeks." in page_text(response)


class TestOwnHoursInTheAdmin:
    def test_a_consultant_sees_and_sets_only_their_own_hours(self, client):
        connie = make_consultant("connie")
        colin = make_consultant("colin", weekdays=[0])
        client.force_login(connie)
        listing = page_text(client.get(reverse("admin:consultations_workinghours_changelist")))
        assert "connie" in listing and "colin" not in listing
        response = client.post(
            reverse("admin:consultations_workinghours_add"),
            {
                "weekday": 5,
                "starts": "10:00",
                "ends": "12:00",
                "timezone": "Europe/London",
                "person": colin.pk,
            },
        )
        assert response.status_code == 302
        assert connie.working_hours.filter(weekday=5).exists()
        assert not colin.working_hours.filter(weekday=5).exists()
        # The timezone is connie's own, one for all her hours and the admin's times.
        assert StaffTimezone.of(get_user_model().objects.get(pk=connie.pk)) == "Europe/London"
        assert StaffTimezone.of(get_user_model().objects.get(pk=colin.pk)) == "UTC"
        listing = page_text(client.get(reverse("admin:consultations_workinghours_changelist")))
        assert "Saturday 10 a.m. noon Europe/London" in listing
        make_hours(colin, weekdays=[6])
        assert client.get(
            reverse("admin:consultations_workinghours_change", args=[colin.working_hours.last().pk])
        ).status_code in (302, 404)

    def test_a_consultants_timezone_moves_all_their_slots(self, client, fixed_clock):
        connie = make_consultant("connie", weekdays=[2])  # Wednesdays 09:00–17:00 UTC
        assert min(slots.free_slots()) == utc(25, 9)
        client.force_login(connie)
        row = connie.working_hours.get()
        response = client.post(
            reverse("admin:consultations_workinghours_change", args=[row.pk]),
            {"weekday": 2, "starts": "09:00", "ends": "17:00", "timezone": "America/New_York"},
        )
        assert response.status_code == 302
        assert min(slots.free_slots()) == utc(25, 14)  # 09:00 in New York


def test_hours_published_or_withdrawn_show_on_the_next_request(client, fixed_clock):
    """Who works when is cached (slots.staff_with_hours), and forgotten on each change."""
    connie = make_staff("connie", group=slots.CONSULTANTS_GROUP)
    assert 'name="slots"' not in client.get(BOOK_URL).content.decode()
    hours = make_hours(connie)
    assert 'name="slots"' in client.get(BOOK_URL).content.decode()
    connie.groups.clear()
    assert 'name="slots"' not in client.get(BOOK_URL).content.decode()
    connie.groups.add(Group.objects.get(name=slots.CONSULTANTS_GROUP))
    assert 'name="slots"' in client.get(BOOK_URL).content.decode()
    for row in hours:
        row.delete()
    assert 'name="slots"' not in client.get(BOOK_URL).content.decode()


def test_the_slot_form_costs_the_same_queries_for_one_consultant_or_five(client, fixed_clock):
    make_consultant("c0")
    client.get(BOOK_URL)  # the reply estimate is cached from here on
    with CaptureQueriesContext(connection) as one:
        client.get(BOOK_URL)
    for number in range(1, 5):
        consultant = make_consultant(f"c{number}")
        TimeOff.objects.create(person=consultant, starts_at=utc(25, 0), ends_at=utc(26, 0))
        SlotHold.objects.take(
            consultant_id=consultant.pk, request=make_consultation(), starts_at=utc(26, 10)
        )
    client.get(BOOK_URL)  # who works when is read afresh once after the change, then cached
    with CaptureQueriesContext(connection) as five:
        response = client.get(BOOK_URL)
    assert len(five) == len(one)
    assert 'name="slots"' in response.content.decode()
