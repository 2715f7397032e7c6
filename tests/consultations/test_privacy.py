"""Privacy: old closed requests are anonymised, a person's data is erased on request,
and no visitor's email address or message reaches the logs."""

import io
import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from comparisons.models import AccuracyReport
from consultations import outbox, services
from consultations.models import (
    ANONYMISED_EMAIL,
    ANONYMISED_NAME,
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
)
from consultations.outbox import deliver_due
from consultations.reports import build_report
from tests.clock import at
from tests.consultations.helpers import booking_data
from tests.factories import make_comparison, make_consultation
from tests.support.admin_forms import change_url
from tests.support.flaky_mail import BROKEN
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

Status = ConsultationRequest.Status
DAY = timedelta(days=1)
# Every request, closed ones included (the queue opens on the open ones).
CHANGELIST = reverse("admin:consultations_consultationrequest_changelist") + "?queue=all"
ERASE_URL = reverse("admin:consultations_consultationrequest_erase")
BOOK_URL = reverse("consultations:book")


def dump():
    """Everything the database keeps about consultations and sign-ins, as text."""
    out = io.StringIO()
    call_command("dumpdata", "consultations", "axes", "admin", stdout=out)
    return out.getvalue()


def request_with_history(*, email, days_ago, status, answered_after_hours=3, note="Called"):
    """A request received ``days_ago`` with a window, notes, emails and an IP."""
    received = timezone.now() - days_ago * DAY
    consultation = make_consultation(
        email=email,
        name=f"Person {email}",
        company=f"Company of {email}",
        message=f"Secret plans of {email}",
        client_ip="203.0.113.5",
        received_at=received,
        first_response_at=received + timedelta(hours=answered_after_hours),
        status=status,
        windows=[received + 2 * DAY],
    )
    AuditEvent.objects.create(
        request=consultation, kind=AuditEvent.Kind.NOTE, note=f"{note} {email}", at=received
    )
    outbox.queue_email(
        to=[email, "triage@compare.example"],
        template="confirmation",
        context={"request": consultation, "windows": [], "respond_by": "", "page_url": ""},
        request=consultation,
    )
    OutgoingEmail.objects.filter(request=consultation).update(
        status="sent", sent_at=received, created_at=received
    )
    return consultation


def assert_anonymised(consultation):
    consultation.refresh_from_db()
    assert consultation.name == ANONYMISED_NAME
    assert consultation.email == ANONYMISED_EMAIL
    assert (consultation.company, consultation.topic, consultation.message) == ("", "", "")
    assert consultation.client_ip is None
    assert not consultation.windows.exists()
    assert set(consultation.events.values_list("note", flat=True)) <= {"", services.ERASED_NOTE}
    for message in consultation.emails.all():
        assert (message.to, message.body, message.ics) == (ANONYMISED_EMAIL, "", "")
        assert message.subject == "(anonymised)"


class TestRetention:
    @pytest.fixture
    def requests(self):
        return {
            status: request_with_history(email=f"old-{status}@example.com", days_ago=400, status=s)
            for status, s in [
                ("completed", Status.COMPLETED),
                ("declined", Status.DECLINED),
                ("spam", Status.SPAM),
                ("duplicate", Status.DUPLICATE),
            ]
        } | {
            "old-open": request_with_history(
                email="old-open@example.com", days_ago=400, status=Status.CONTACTED
            ),
            "old-late": request_with_history(
                email="old-late@example.com",
                days_ago=380,
                status=Status.DECLINED,
                answered_after_hours=30,  # a breach in the report
            ),
            "recent": request_with_history(
                email="recent@example.com", days_ago=300, status=Status.COMPLETED
            ),
        }

    def test_closed_requests_past_the_period_are_anonymised_and_the_report_is_unchanged(
        self, requests
    ):
        now = timezone.now()
        emails = {key: consultation.email for key, consultation in requests.items()}
        before = build_report(ConsultationRequest.objects.all(), now=now)
        out = io.StringIO()
        call_command("anonymise_requests", stdout=out)
        assert out.getvalue().strip() == "Anonymised 5 closed request(s)."
        after = build_report(ConsultationRequest.objects.all(), now=now)
        assert after == before
        assert len(after.breaches) == 1 and after.total == 7

        for key in ("completed", "declined", "spam", "duplicate", "old-late"):
            assert_anonymised(requests[key])
        text = dump()
        for key in ("completed", "declined", "spam", "duplicate", "old-late"):
            assert emails[key] not in text
            assert f"Secret plans of {emails[key]}" not in text
        # Open requests and requests within the period keep everything.
        for key in ("old-open", "recent"):
            kept = ConsultationRequest.objects.get(pk=requests[key].pk)
            assert kept.email == f"{key}@example.com"
            assert kept.windows.count() == 1
            assert f"Secret plans of {kept.email}" == kept.message
            assert f"Called {kept.email}" in text

        # A second run has nothing left to do.
        call_command("anonymise_requests", stdout=out)
        assert out.getvalue().strip().endswith("Anonymised 0 closed request(s).")

    @override_settings(CONSULTATION_RETENTION_DAYS=200)
    def test_the_period_is_a_setting_and_an_option(self, requests):
        call_command("anonymise_requests", "--days", "390", stdout=io.StringIO())
        assert ConsultationRequest.objects.filter(email=ANONYMISED_EMAIL).count() == 4
        call_command("anonymise_requests", stdout=io.StringIO())
        # Now 200 days: the 300-day-old completed one and the 380-day-old declined one too.
        assert ConsultationRequest.objects.filter(email=ANONYMISED_EMAIL).count() == 6
        assert ConsultationRequest.objects.get(status=Status.CONTACTED).email == (
            "old-open@example.com"
        )

    def test_a_request_touched_within_the_period_is_kept(self):
        consultation = request_with_history(
            email="touched@example.com", days_ago=400, status=Status.DECLINED
        )
        consultation.add_note("Visitor wrote again last week", by=None)
        assert services.anonymise_expired() == 0
        consultation.refresh_from_db()
        assert consultation.email == "touched@example.com"

    def test_readers_addresses_go_after_the_period_and_their_reports_stay(self):
        comparison = make_comparison(factors=1)
        factor = comparison.factors.get()
        reports = {}
        for key, days_ago in (("old", 400), ("recent", 30)):
            with at(timezone.now() - timedelta(days=days_ago)):
                reports[key] = AccuracyReport.objects.create(
                    comparison=comparison,
                    target=AccuracyReport.Target.FACTOR,
                    factor=factor,
                    target_label="Factor 1",
                    text=f"{key} report",
                    email=f"{key}-reader@example.com",
                    client_ip="203.0.113.9",
                )
                outbox.queue_email(
                    to=[f"{key}-reader@example.com"],
                    template="report_resolved",
                    context={"comparison": comparison, "accepted": True, "page_url": ""},
                )
        out = io.StringIO()
        call_command("anonymise_requests", stdout=out)
        assert "Erased the reader's address on 1 report(s) and 1 email(s)." in out.getvalue()
        text = dump()  # the outbox
        assert "old-reader@example.com" not in text
        assert "recent-reader@example.com" in text
        old, recent = (AccuracyReport.objects.get(pk=reports[key].pk) for key in ("old", "recent"))
        assert (old.email, old.client_ip, old.text) == ("", None, "old report")
        assert (recent.email, recent.client_ip) == ("recent-reader@example.com", "203.0.113.9")

    def test_a_period_below_one_day_is_refused(self):
        with pytest.raises(Exception, match="at least 1"):
            call_command("anonymise_requests", "--days", "0", stdout=io.StringIO())


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


class TestEraseOnRequest:
    @pytest.fixture
    def person(self):
        """Ada: one closed request, one open with a pending email, a sign-in record.
        Bob, who must keep everything."""
        closed = request_with_history(email="ada@example.com", days_ago=30, status=Status.DECLINED)
        open_ = make_consultation(
            email="Ada@Example.com", name="Ada L", message="Ada's second question"
        )
        open_.add_note("Ada prefers mornings", by=None)
        outbox.queue_email(
            to=["Ada@Example.com"],
            template="confirmation",
            context={"request": open_, "windows": [], "respond_by": "", "page_url": ""},
            request=open_,
        )
        AccessAttempt.objects.create(
            username="ada@example.com",
            ip_address="203.0.113.9",
            user_agent="x",
            failures_since_start=1,
            get_data="",
            post_data="",
            http_accept="",
            path_info="/admin/login/",
        )
        AccessLog.objects.create(
            username="ada@example.com", ip_address="203.0.113.9", user_agent="x"
        )
        comparison = make_comparison(factors=1)
        AccuracyReport.objects.create(
            comparison=comparison,
            target=AccuracyReport.Target.FACTOR,
            factor=comparison.factors.get(),
            target_label="Factor 1",
            text="Out of date since the last release.",
            email="ADA@example.com",
            client_ip="203.0.113.9",
        )
        bob = request_with_history(email="bob@example.com", days_ago=30, status=Status.DECLINED)
        return closed, open_, bob

    def test_the_action_asks_for_confirmation_then_erases_everywhere(
        self, superuser_client, person
    ):
        closed, open_, bob = person
        # An earlier edit left the visitor's name in the admin's change history.
        change = change_url(open_)
        superuser_client.post(change, {"status": "new", "assignee": "", "note": "Checked"})
        assert "Ada L" in dump()
        response = superuser_client.post(
            CHANGELIST,
            {"action": "erase_personal_data", "_selected_action": [closed.pk, open_.pk]},
        )
        assert response.status_code == 302
        confirm_page = superuser_client.get(response["Location"])
        text = page_text(confirm_page)
        assert closed.reference in text and open_.reference in text
        assert "2 requests" in text and "3 emails" in text and "2 sign-in records" in text
        assert ConsultationRequest.objects.filter(email__iexact="ada@example.com").count() == 2

        # Without the confirmation tick nothing happens.
        refused = superuser_client.post(ERASE_URL, {"email": "ada@example.com"})
        assert "Tick this box to confirm the erasure." in page_text(refused)
        assert ConsultationRequest.objects.filter(email__iexact="ada@example.com").count() == 2

        done = superuser_client.post(
            ERASE_URL, {"email": "ada@example.com", "confirm": "on"}, follow=True
        )
        assert "Erased the personal data of 2 requests" in page_text(done)
        assert_anonymised(closed)
        assert_anonymised(open_)
        text = dump()
        for trace in ("ada@example.com", "Ada@Example.com", "Ada L", "second question", "mornings"):
            assert trace.lower() not in text.lower()
        assert not AccessAttempt.objects.exists()
        assert list(AccessLog.objects.values_list("username", flat=True)) == ["root"]
        # Her report on a comparison stays, without her reply address.
        report = AccuracyReport.objects.get()
        assert (report.email, report.client_ip) == ("", None)
        assert report.text == "Out of date since the last release."
        # The open request can no longer be answered: declined, the erasure audited.
        open_.refresh_from_db()
        assert open_.status == Status.DECLINED
        assert open_.events.filter(note=services.ERASED_NOTE).get().actor.username == "root"
        assert OutgoingEmail.objects.filter(request=open_).get().status == "failed"
        deliver_due(now=timezone.now() + timedelta(days=1))
        assert mail.outbox == []
        # Bob keeps everything.
        bob.refresh_from_db()
        assert bob.email == "bob@example.com" and bob.windows.count() == 1
        assert "Called bob@example.com" in text

    def test_the_action_wants_one_person(self, superuser_client, person):
        closed, _, bob = person
        response = superuser_client.post(
            CHANGELIST,
            {"action": "erase_personal_data", "_selected_action": [closed.pk, bob.pk]},
            follow=True,
        )
        assert "Select the requests of one person" in page_text(response)
        closed.refresh_from_db()
        assert closed.email == "ada@example.com"

    def test_a_triager_may_not_erase(self, client, person, triager):
        client.force_login(triager)
        assert client.get(ERASE_URL).status_code == 403
        response = client.post(ERASE_URL, {"email": "ada@example.com", "confirm": "on"})
        assert response.status_code == 403
        assert ConsultationRequest.objects.filter(email__iexact="ada@example.com").count() == 2


class TestNothingPersonalInTheLogs:
    @pytest.mark.usefixtures("triager")
    def test_booking_delivery_failures_and_warnings_log_no_address_or_message(self, client, caplog):
        address = "ada.private@example.com"
        message = "Our secret merger needs a framework decision"
        caplog.set_level(logging.DEBUG)
        response = client.post(BOOK_URL, booking_data(email=address, message=message))
        assert response.status_code == 302
        with override_settings(MAILERS=BROKEN):
            deliver_due()
        failing = OutgoingEmail.objects.filter(to=address).get()
        deliver_due(now=failing.next_attempt_at)
        assert OutgoingEmail.objects.filter(status="sent").count() == 2
        # A request about to breach and then breached: each warning runs once.
        received = ConsultationRequest.objects.get().received_at
        assert services.warn_due_requests(now=received + timedelta(hours=21)) == 1
        assert services.warn_due_requests(now=received + timedelta(hours=25)) == 1
        with override_settings(MAILERS=BROKEN):
            for day in range(1, OutgoingEmail.MAX_ATTEMPTS + 1):
                deliver_due(now=timezone.now() + day * DAY)
        # The anonymous visitor's confirmation page, a 404 and a rejected bot post.
        client.get(ConsultationRequest.objects.get().get_absolute_url())
        client.get("/consultations/requests/NOSUCHREF1/")
        client.post(BOOK_URL, booking_data(email=address, message=message, website="x"))

        logged = [
            (record.name, record.getMessage(), str(record.exc_info or ""))
            for record in caplog.records
        ]
        text = "\n".join(" ".join(parts) for parts in logged)
        assert "Could not send outbox message" in text  # the failures were logged
        assert "Gave up sending outbox message" in text
        assert address not in text.lower()
        assert message.lower() not in text.lower()
        assert "secret merger" not in text.lower()
