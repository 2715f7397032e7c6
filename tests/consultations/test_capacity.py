"""The honest promise: when a new request would get its first reply, against a simulated
backlog, and what the booking form, the confirmation and the comparison pages say."""

import io
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations import capacity
from consultations.capacity import Triager, estimate_first_reply
from consultations.models import AuditEvent, ConsultationRequest, TimeOff
from tests.clock import FIXED_NOW, at
from tests.consultations.helpers import fixed_booking
from tests.factories import make_comparison, make_consultation, make_hours, make_staff
from tests.support.pages import page_text

BOOK_URL = reverse("consultations:book")
LAST_TUESDAY = FIXED_NOW - timedelta(days=7)  # 17 November, 09:00 UTC


def reply_url(consultation):
    return reverse("admin:consultations_consultationrequest_reply", args=[consultation.pk])


def moment(day, hour, minute=0):
    """November 2026 in UTC: moment(27, 16) is Friday 27 November, 16:00."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def office_hours(weekdays=range(5), starts=9, ends=17):
    return tuple(SimpleNamespace(weekday=d, starts=time(starts), ends=time(ends)) for d in weekdays)


# Two triagers, Monday to Friday 09:00–17:00 UTC, two first replies an hour each:
# the team answers 4 requests an hour, 32 a day.
TEAM = [Triager(hours=office_hours(), pace=2.0), Triager(hours=office_hours(), pace=2.0)]


class TestTheEstimate:
    """A pure function: no database, no clock."""

    @pytest.mark.parametrize(
        ("now", "backlog", "expected"),
        [
            # Tuesday 09:00: the first half hour answers 2.
            (moment(24, 9), 0, moment(24, 9, 30)),
            (moment(24, 9), 1, moment(24, 9, 30)),
            (moment(24, 9), 10, moment(24, 12)),
            # A day's worth (32) and 9 more: Wednesday's fifth half hour.
            (moment(24, 9), 40, moment(25, 11, 30)),
            # Friday 16:45: the last quarter hour answers one; the next waits for Monday.
            (moment(27, 16, 45), 0, moment(27, 17)),
            (moment(27, 16, 45), 1, moment(30, 9, 30)),
            # Saturday night: Monday morning.
            (moment(28, 23), 0, moment(30, 9, 30)),
        ],
    )
    def test_against_a_simulated_backlog(self, now, backlog, expected):
        assert estimate_first_reply(now=now, backlog=backlog, triagers=TEAM) == expected

    def test_a_holiday_moves_the_reply_past_it(self):
        thanksgiving = ((moment(26, 0), moment(27, 0)),)
        team = [Triager(hours=office_hours(), time_off=thanksgiving) for _ in range(2)]
        # Wednesday 16:00, 10 waiting: 4 answered on Wednesday; the other 6 and this
        # one on Friday, 2 each half hour from 09:00.
        assert estimate_first_reply(now=moment(25, 16), backlog=10, triagers=team) == moment(27, 11)

    def test_the_triagers_own_timezones_count(self):
        new_york = [Triager(hours=office_hours(), timezone="America/New_York", pace=1.0)]
        # 09:00 in New York is 14:00 UTC; one an hour: the first reply at 15:00 UTC.
        assert estimate_first_reply(now=moment(24, 9), backlog=0, triagers=new_york) == moment(
            24, 15
        )

    def test_nobody_at_work_means_no_estimate(self):
        assert estimate_first_reply(now=moment(24, 9), backlog=0, triagers=[]) is None
        away = ((moment(1, 0), moment(30, 0) + timedelta(days=40)),)
        team = [Triager(hours=office_hours(), time_off=away)]
        assert estimate_first_reply(now=moment(24, 9), backlog=0, triagers=team) is None

    def test_a_slower_team_takes_longer(self):
        slow = [Triager(hours=office_hours(), pace=0.5)]
        # One reply every two hours: the third request waits until 15:00.
        assert estimate_first_reply(now=moment(24, 9), backlog=2, triagers=slow) == moment(24, 15)


@pytest.mark.django_db
@pytest.mark.clock
class TestFromTheDatabase:
    """The Triage group at FIXED_NOW (Tuesday 24 November, 09:00 UTC)."""

    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine, settings):
        time_machine.move_to(FIXED_NOW, tick=False)
        settings.CONSULTATION_MIN_FILL_SECONDS = 0

    @pytest.fixture
    def team(self):
        tess = make_staff("tess", group="Triage")
        trev = make_staff("trev", group="Triage")
        for person in (tess, trev):
            make_hours(person)
        return tess, trev

    def backlog(self, size):
        for _ in range(size):
            make_consultation(received_at=FIXED_NOW - timedelta(hours=1))

    def test_no_triager_hours_means_no_estimate_and_no_notice(self, client):
        make_staff("tess", group="Triage")
        self.backlog(50)
        assert capacity.current_estimate() is None
        assert "busier than usual" not in page_text(client.get(BOOK_URL))

    def test_a_backlog_the_team_answers_within_a_day_says_nothing(self, client, team):
        self.backlog(20)
        assert capacity.current_estimate() == moment(24, 14, 30)
        assert "busier than usual" not in page_text(client.get(BOOK_URL))

    def test_a_backlog_beyond_a_day_is_said_before_and_after_booking(self, client, team):
        self.backlog(40)
        # 41st in the queue, 32 a day: Wednesday 11:30 UTC, past Wednesday 09:00.
        response = client.get(BOOK_URL, {"timezone": "America/New_York"})
        notice = (
            "We are busier than usual: expect a reply by Wednesday 25 November 2026, 06:30 EST."
        )
        assert notice in page_text(response)
        response = client.post(BOOK_URL, fixed_booking(timezone="America/New_York"), follow=True)
        consultation = ConsultationRequest.objects.get(email="ada@example.com")
        assert consultation.respond_by == FIXED_NOW + timedelta(hours=24)
        assert consultation.expected_reply_at == moment(25, 11, 30)
        assert notice in page_text(response)
        call_command("deliver_email", "--once", stdout=io.StringIO())
        confirmation = next(m for m in mail.outbox if m.to == ["ada@example.com"])
        assert notice in " ".join(confirmation.body.split())

    def test_the_pace_comes_from_recent_first_replies(self, team):
        tess, trev = team
        # 12 requests came in on Monday of last week and Tess answered them all today.
        # Left past the promise they were stuck: only their first 24 hours say how fast
        # she answers, 8 of her working hours (Monday 09:00 to 17:00): 1.5 an hour.
        # Trev has no history yet: the default pace, 2 an hour.
        for _ in range(12):
            request = make_consultation(received_at=FIXED_NOW - timedelta(days=8))
            AuditEvent.objects.create(
                request=request, actor=tess, kind=AuditEvent.Kind.CONTACT, at=FIXED_NOW
            )
        ConsultationRequest.objects.update(first_response_at=FIXED_NOW)
        paces = sorted(t.pace for t in capacity.load_triagers(FIXED_NOW))
        assert paces == [1.5, 2.0]

    def replied_last_week(
        self, client, by, requests, text="Does Thursday suit you?", when=LAST_TUESDAY
    ):
        """``by`` replies from the request's reply form to each of ``requests``, on
        Tuesday of last week (within RECENT_DAYS) unless ``when`` says otherwise."""
        with at(when):
            client.force_login(by)
            for request in requests:
                response = client.post(reply_url(request), {"text": text})
                assert response.status_code == 302

    def answered_requests(self, count, received_at=LAST_TUESDAY - timedelta(days=1)):
        """``count`` requests received on Monday of last week, 09:00 UTC."""
        return [make_consultation(received_at=received_at) for _ in range(count)]

    def test_first_replies_sent_from_the_request_set_the_pace(
        self, client, team, django_assert_num_queries
    ):
        tess, trev = team
        # Tess answered 6 requests from their reply page on Tuesday morning; they had
        # waited since Monday 09:00, 8 of her working hours: 0.75 an hour. Trev has
        # none: the default pace.
        self.replied_last_week(client, tess, self.answered_requests(6))
        with django_assert_num_queries(5):
            paces = {t.pace for t in capacity.load_triagers(FIXED_NOW)}
        assert paces == {0.75, capacity.DEFAULT_PACE}

    def test_hours_with_nothing_waiting_do_not_slow_the_pace(self, client, team):
        tess, trev = team
        # 16 first replies on Tuesday morning, to requests that came in on Monday at
        # 16:00: one busy working hour (the rest of her four weeks nothing waited).
        requests = [
            make_consultation(received_at=FIXED_NOW - timedelta(days=7, hours=17))
            for _ in range(16)
        ]
        self.replied_last_week(client, tess, requests)
        assert {t.pace for t in capacity.load_triagers(FIXED_NOW)} == {16.0, 2.0}

    def test_a_request_counts_once_for_whoever_answered_it_first(self, client, team):
        tess, trev = team
        # Trev marked 8 requests contacted on Monday afternoon; Tess replied to 8 others
        # from the request on Tuesday. Then each replied again to all 16: those second
        # replies count for nobody.
        trevs, tesss = self.answered_requests(8), self.answered_requests(8)
        with at(LAST_TUESDAY - timedelta(hours=20)):
            client.force_login(trev)
            response = client.post(
                reverse("admin:consultations_consultationrequest_changelist"),
                {"action": "mark_contacted", "_selected_action": [r.pk for r in trevs]},
            )
            assert response.status_code == 302
        self.replied_last_week(client, tess, tesss)
        self.replied_last_week(client, tess, trevs, text="Following up.")
        self.replied_last_week(client, trev, [*trevs, *tesss], text="Any news?")
        assert AuditEvent.objects.responses().filter(actor=tess).count() == 16
        # 8 first replies each in the 8 working hours something waited: 1 an hour.
        assert [t.pace for t in capacity.load_triagers(FIXED_NOW)] == [1.0, 1.0]

    def test_first_replies_from_before_recent_days_do_not_count(self, client, team):
        tess, trev = team
        old = [
            make_consultation(received_at=FIXED_NOW - capacity.RECENT_DAYS - timedelta(days=2))
            for _ in range(16)
        ]
        with at(FIXED_NOW - capacity.RECENT_DAYS - timedelta(minutes=1)):
            client.force_login(tess)
            for request in old:
                client.post(reply_url(request), {"text": "Does Thursday suit you?"})
        # ... and a reply to them now is nobody's first.
        self.replied_last_week(client, tess, old, text="Following up.")
        assert {t.pace for t in capacity.load_triagers(FIXED_NOW)} == {capacity.DEFAULT_PACE}

    def test_a_slow_recent_pace_makes_a_small_backlog_busier_than_usual(self, client, team):
        tess, trev = team
        # Last week two requests came in at 09:00 each weekday, and waited until this
        # Monday: Tess answered one of each day's, Trev the other. 5 first replies each
        # in 40 busy working hours: the team answers one every four hours.
        monday = LAST_TUESDAY - timedelta(days=1)
        for person in team:
            requests = [
                self.answered_requests(1, received_at=monday + timedelta(days=day))[0]
                for day in range(5)
            ]
            self.replied_last_week(client, person, requests, when=FIXED_NOW - timedelta(days=1))
        client.logout()
        # Three waiting: this request is answered after 16 working hours, on
        # Wednesday at 17:00 UTC (12:00 in New York), past the promise (09:00 UTC).
        self.backlog(3)
        response = client.get(BOOK_URL, {"timezone": "America/New_York"})
        assert (
            "We are busier than usual: expect a reply by Wednesday 25 November 2026, 12:00 EST."
            in page_text(response)
        )

    def test_time_off_counts_as_a_holiday(self, team):
        tess, trev = team
        for person in team:
            TimeOff.objects.create(person=person, starts_at=moment(24, 0), ends_at=moment(25, 0))
        assert capacity.current_estimate() == moment(25, 9, 30)

    def test_the_estimate_is_cached_briefly(self, team, time_machine):
        self.backlog(40)
        first = capacity.current_estimate()
        with CaptureQueriesContext(connection) as queries:
            assert capacity.current_estimate() == first
        assert len(queries) == 0
        self.backlog(40)
        time_machine.shift(timedelta(seconds=capacity.ESTIMATE_CACHE_SECONDS + 1))
        assert capacity.current_estimate() > first

    def test_comparison_pages_stay_cached_and_say_nothing_of_it(self, client, team):
        self.backlog(200)
        comparison = make_comparison(factors=3)
        first = client.get(comparison.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            second = client.get(comparison.get_absolute_url())
        assert len(queries) == 0
        assert second.content == first.content
        assert "busier" not in page_text(second)
        assert second.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert second.headers["ETag"] == first.headers["ETag"]
