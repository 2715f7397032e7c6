"""`load_demo` loads consultation activity the staff report, the booking form and the
reply estimate can show: staff with hours and time off, saved replies and five weeks
of requests in mixed states, placed relative to now, loaded once however often run."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consultations import capacity, slots
from consultations.demo import DEMO_DOMAIN, REQUESTS
from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    DueWarning,
    OutgoingEmail,
    SavedReply,
    SlotHold,
    StaffTimezone,
    TimeOff,
    WorkingHours,
)
from consultations.reports import build_report
from tests.factories import make_staff
from tests.support.pages import page_text

# clock: the demo is placed relative to now; `pytest --every-date` loads it on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def load_demo():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo():
    return load_demo()


def test_loading_twice_changes_nothing(demo):
    assert f"Loaded {len(REQUESTS)} demo consultation requests" in demo
    counts = [
        model.objects.count()
        for model in (ConsultationRequest, AuditEvent, SlotHold, WorkingHours, TimeOff, SavedReply)
    ]
    again = load_demo()
    assert "The demo consultation requests are already there" in again
    assert "The demo comparison is already there" in again
    assert [
        model.objects.count()
        for model in (ConsultationRequest, AuditEvent, SlotHold, WorkingHours, TimeOff, SavedReply)
    ] == counts
    assert ConsultationRequest.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count() == 36


def test_the_report_shows_real_figures(demo):
    report = build_report(ConsultationRequest.objects.all(), now=timezone.now())
    by_status = dict(report.by_status)
    assert report.total == 36
    assert by_status == {
        "New": 6,
        "Contacted": 7,
        "Scheduled": 2,
        "Completed": 16,
        "Declined": 3,
        "Spam": 2,
        "Duplicate": 0,
    }
    settled = sum(week.settled for week in report.weeks)
    on_time = sum(week.on_time for week in report.weeks)
    # Every answered request (28, three of them late) and the open breach; the five
    # waiting are not due yet.
    assert (settled, on_time) == (29, 25)
    assert len(report.weeks) >= 5
    assert all(week.share is not None for week in report.weeks[:-1])
    # Three answered late after an apology, one still waiting after its apology.
    assert (report.breach_count, report.recovered, report.apologies) == (4, 3, 4)
    assert report.median_recovery_hours == 7.0  # late by 3, 7 and 16 hours
    assert report.median_hours is not None and report.median_hours < 24
    assert report.p90_hours > 24


def test_the_report_page_shows_them(client, demo):
    staff = make_staff("rita", permissions=["consultations.view_report"])
    client.force_login(staff)
    text = page_text(client.get(reverse("consultations:report")))
    assert "Breaches (4)" in text
    assert "Recovered (answered late) 3 of 4" in text
    assert "Median time to recover 7.0 hours after the reply-by time" in text
    assert "Apologies sent 4" in text


def test_the_booking_form_offers_the_consultants_free_slots(client, demo):
    free = slots.free_slots()
    assert free, "the demo consultant has free slots"
    # Her day off and the slots already held are not offered.
    leave = TimeOff.objects.get(reason="Leave")
    assert not [s for s in free if leave.starts_at <= s < leave.ends_at]
    assert not set(SlotHold.objects.values_list("starts_at", flat=True)) & set(free)
    assert 'name="slots"' in client.get(reverse("consultations:book")).content.decode()


def test_the_staff_and_the_promise(demo):
    assert SavedReply.objects.count() == 3
    assert StaffTimezone.of(WorkingHours.objects.first().person) in (
        "Europe/London",
        "Europe/Berlin",
    )
    # Six requests wait for a first reply. The triager's pace is her own: the demo's
    # replies sent from the request are her recent first replies, not the default.
    estimate = capacity.current_estimate()
    assert estimate is not None
    (tess,) = capacity.load_triagers(timezone.now())
    assert tess.pace != capacity.DEFAULT_PACE
    # The breached ones were warned and apologised to once: the worker sends nothing more.
    assert DueWarning.objects.filter(kind=DueWarning.Kind.OVERDUE).count() == 4
    assert ConsultationRequest.objects.overdue().exclude(warnings__kind="overdue").count() == 0
    assert not OutgoingEmail.objects.exists()
