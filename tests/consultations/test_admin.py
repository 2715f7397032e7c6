"""Triage in the admin, and who may see it: the permission matrix."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
    PendingAddition,
    ScheduledRun,
)
from tests.clock import FIXED_NOW
from tests.factories import make_comparison, make_consultation, make_staff
from tests.support.admin_forms import change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

Status = ConsultationRequest.Status
CHANGELIST = reverse("admin:consultations_consultationrequest_changelist")
REPORT = reverse("consultations:report")


def act(client, action, *requests):
    # From the "All requests" view: the default view lists open requests only.
    return client.post(
        CHANGELIST + "?queue=all",
        {"action": action, "_selected_action": [r.pk for r in requests]},
        follow=True,
    )


@pytest.fixture
def triager(client, triager):
    """In this module the triager is signed in on ``client``."""
    client.force_login(triager)
    return triager


class TestGroups:
    def test_the_migration_made_both_groups(self):
        triage = set(
            Group.objects.get(name="Triage").permissions.values_list("codename", flat=True)
        )
        assert {"view_consultationrequest", "change_consultationrequest", "view_report"} <= triage
        assert "delete_consultationrequest" not in triage
        assert not any("comparison" in codename for codename in triage)
        editors = set(
            Group.objects.get(name="Editors").permissions.values_list("codename", flat=True)
        )
        assert {"add_comparison", "change_statistic", "delete_factor", "view_framework"} <= editors
        # 24 for the six content models, publish_comparison, and viewing and resolving
        # (change) reader reports.
        assert len(editors) == 27
        assert {"view_accuracyreport", "change_accuracyreport"} <= editors
        assert not any("consultation" in codename for codename in editors)


class TestPermissionMatrix:
    @pytest.fixture
    def pages(self):
        request = make_consultation()
        return {
            "changelist": CHANGELIST,
            "change": change_url(request),
            "report": REPORT,
            "csv": REPORT + "?format=csv",
        }

    def test_anonymous_reaches_none_of_it(self, client, pages):
        for url in pages.values():
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))

    def test_an_editor_reaches_none_of_it(self, client, pages, editor):
        client.force_login(editor)
        for url in pages.values():
            assert client.get(url).status_code == 403, url
        assert "Consultation requests" not in page_text(client.get(reverse("admin:index")))

    def test_a_triager_reaches_all_of_it(self, client, pages, triager):
        client.force_login(triager)
        for url in pages.values():
            assert client.get(url).status_code == 200, url
        assert "Comparisons" not in page_text(client.get(reverse("admin:index")))

    def test_the_queue_links_to_the_report(self, client, pages, triager):
        client.force_login(triager)
        assert f'href="{REPORT}"' in client.get(CHANGELIST).content.decode()

    def test_a_superuser_reaches_all_of_it(self, client, pages, superuser):
        client.force_login(superuser)
        for url in pages.values():
            assert client.get(url).status_code == 200, url

    def test_a_logged_in_visitor_without_staff_status_is_sent_to_the_login(
        self, client, pages, visitor
    ):
        client.force_login(visitor)
        for url in pages.values():
            assert client.get(url).status_code == 302

    def test_a_triager_cannot_add_or_delete_requests(self, client, pages, triager):
        client.force_login(triager)
        assert client.get(CHANGELIST + "add/").status_code == 403
        request = ConsultationRequest.objects.get()
        assert client.get(change_url(request) + "delete/").status_code == 403


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestQueue:
    def test_ordered_by_respond_by_with_text_badges(self, client, triager):
        now = timezone.now()
        late = make_consultation(received_at=now - timedelta(hours=27), name="Late Larry")
        soon = make_consultation(received_at=now - timedelta(hours=22), name="Soon Sam")
        fresh = make_consultation(received_at=now, name="Fresh Fay")
        text = page_text(client.get(CHANGELIST))
        assert text.index("Late Larry") < text.index("Soon Sam") < text.index("Fresh Fay")
        assert "Overdue by 3 h" in text
        assert "Due in 1 h" in text
        assert "Due in 23 h" in text
        assert {late.reference, soon.reference, fresh.reference} <= set(text.split())

    @pytest.mark.parametrize(
        ("queue", "expected"),
        [
            ("unassigned", {"Fresh Fay", "Late Larry"}),
            ("due_soon", {"Soon Sam"}),
            ("overdue", {"Late Larry"}),
        ],
    )
    def test_queue_filters(self, client, triager, queue, expected):
        now = timezone.now()
        make_consultation(received_at=now - timedelta(hours=27), name="Late Larry")
        soon = make_consultation(received_at=now - timedelta(hours=22), name="Soon Sam")
        soon.assign(to=triager, by=triager)
        make_consultation(received_at=now, name="Fresh Fay")
        text = page_text(client.get(CHANGELIST + f"?queue={queue}"))
        names = {n for n in ("Late Larry", "Soon Sam", "Fresh Fay") if n in text}
        assert names == expected

    def test_status_and_assignee_filters(self, client, triager):
        mine = make_consultation(name="Mine Mo")
        mine.assign(to=triager, by=triager)
        make_consultation(name="Other Oz").transition(Status.SPAM, by=triager)
        text = page_text(client.get(CHANGELIST + f"?assignee__id__exact={triager.pk}"))
        assert "Mine Mo" in text and "Other Oz" not in text
        text = page_text(client.get(CHANGELIST + "?status__exact=spam"))
        assert "Other Oz" in text and "Mine Mo" not in text

    def test_the_changelist_query_count_does_not_grow_with_the_queue(self, client, triager):
        comparison = make_comparison()

        def count_queries():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(CHANGELIST).status_code == 200
            return len(queries)

        for _ in range(3):
            make_consultation(comparison=comparison).assign(to=triager, by=triager)
        few = count_queries()
        other = make_staff("sam")
        for _ in range(15):
            make_consultation(comparison=make_comparison()).assign(to=other, by=None)
        assert count_queries() == few

    def test_each_row_has_djangos_own_checkbox_for_the_actions(self, client, triager):
        """The queue writes the checkbox itself (cheaper): the HTML is Django's."""
        consultation = make_consultation(name='Ada "<Lovelace>"')
        response = client.get(CHANGELIST)
        model_admin = response.context["cl"].model_admin
        djangos = admin.ModelAdmin.action_checkbox(model_admin, consultation)
        assert model_admin.action_checkbox(consultation) == djangos
        assert djangos in response.content.decode()


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestActions:
    def test_assign_to_me(self, client, triager):
        request = make_consultation()
        response = act(client, "assign_to_me", request)
        assert "Assigned to you: 1 request." in page_text(response)
        request.refresh_from_db()
        assert request.assignee == triager
        assert request.events.get().kind == AuditEvent.Kind.ASSIGNEE

    def test_mark_contacted_sets_first_response_once(self, client, triager):
        request = make_consultation()
        act(client, "mark_contacted", request)
        request.refresh_from_db()
        first = request.first_response_at
        assert request.status == Status.CONTACTED and first is not None
        act(client, "mark_contacted", request)
        request.refresh_from_db()
        assert request.first_response_at == first

    def test_decline_spam_duplicate_and_refusals(self, client, triager):
        original = make_consultation(
            email="same@example.com", received_at=timezone.now() - timedelta(hours=2)
        )
        repeat = make_consultation(email="same@example.com")
        spam = make_consultation()
        act(client, "mark_duplicate", repeat)
        act(client, "mark_spam", spam)
        act(client, "decline", original)
        for request in (original, repeat, spam):
            request.refresh_from_db()
        assert (original.status, repeat.status, spam.status) == ("declined", "duplicate", "spam")
        assert repeat.duplicate_of == original

        # Declined is final: marking it spam is refused with a message, the rest still done.
        fresh = make_consultation()
        response = act(client, "mark_spam", original, fresh)
        text = page_text(response)
        assert f"{original.reference}: A request that is declined cannot become spam." in text
        assert "Marked spam: 1 request." in text
        original.refresh_from_db()
        assert original.status == Status.DECLINED


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestChangePage:
    def test_visitor_details_notes_and_audit_trail(self, client, triager):
        request = make_consultation(
            name="<b>Ada</b>", windows=[datetime(2030, 1, 7, 9, 0, tzinfo=UTC)]
        )
        response = client.post(
            change_url(request),
            {"status": "contacted", "assignee": triager.pk, "note": "Called; wants Tuesday"},
            follow=True,
        )
        assert response.status_code == 200
        request.refresh_from_db()
        assert request.status == Status.CONTACTED
        assert request.first_response_at is not None
        assert request.assignee == triager
        kinds = list(request.events.values_list("kind", flat=True))
        assert kinds == ["assignee", "contact", "status", "note"]

        page = client.get(change_url(request))
        body = page.content.decode()
        assert "&lt;b&gt;Ada&lt;/b&gt;" in body and "<b>Ada</b>" not in body
        text = page_text(page)
        assert "Called; wants Tuesday" in text  # the audit trail, read-only
        assert "Mon 07 Jan 2030 09:00 UTC" in text

    def test_the_audit_trail_escapes_what_it_shows(self, client, triager):
        request = make_consultation()
        request.add_note("<script>alert(1)</script>", by=triager)
        body = client.get(change_url(request)).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert(1)" not in body
        assert f"<td>{triager.username}</td><td>Internal note</td>" in body

    def test_an_invalid_status_change_is_refused_with_a_message(self, client, triager):
        request = make_consultation()
        request.transition(Status.DECLINED, by=triager)
        response = client.post(change_url(request), {"status": "contacted", "assignee": ""})
        assert response.status_code == 200
        assert "A request that is declined cannot become contacted." in page_text(response)
        request.refresh_from_db()
        assert request.status == Status.DECLINED

    def test_schedule_from_a_visitor_window(self, client, triager):
        day = timezone.now().date() + timedelta(days=2)
        start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
        request = make_consultation(windows=[start, start + timedelta(hours=2)])
        url = reverse("admin:consultations_consultationrequest_schedule", args=[request.pk])
        assert "Schedule a slot" in page_text(client.get(change_url(request)))
        page = client.get(url)
        assert page.status_code == 200
        assert f"{start:%A %d %B %Y}, 10:00 UTC" in page_text(page)
        response = client.post(url, {"window": start.isoformat(), "other": ""}, follow=True)
        assert "the invitation is queued" in page_text(response)
        request.refresh_from_db()
        assert request.status == Status.SCHEDULED and request.scheduled_start == start
        assert OutgoingEmail.objects.get(request=request).ics

    def test_schedule_another_time_must_be_on_the_half_hour(self, client, triager):
        request = make_consultation()
        url = reverse("admin:consultations_consultationrequest_schedule", args=[request.pk])
        day = timezone.now().date() + timedelta(days=2)
        response = client.post(url, {"other": f"{day:%Y-%m-%d}T10:10"})
        assert "Start on the hour or half hour." in page_text(response)
        response = client.post(url, {"other": f"{day:%Y-%m-%d}T10:30"})
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.scheduled_start == datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)

    @pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
    def test_year_9999_is_a_form_error_not_a_500(self, client, triager, time_machine, tz):
        time_machine.move_to(FIXED_NOW, tick=False)
        request = make_consultation(timezone=tz)
        url = reverse("admin:consultations_consultationrequest_schedule", args=[request.pk])
        for other in ("9999-12-31T23:30", "9999-12-31T00:00"):
            response = client.post(url, {"other": other})
            assert response.status_code == 200
            assert "Pick a slot within the next 4 weeks." in page_text(response)
        request.refresh_from_db()
        assert request.status == Status.NEW and request.scheduled_start is None
        assert not OutgoingEmail.objects.exists()

    def test_the_booking_horizon_bounds_the_slot_on_both_sides_of_the_edge(
        self, client, triager, time_machine
    ):
        time_machine.move_to(FIXED_NOW, tick=False)  # Tuesday 24 November 2026, 09:00 UTC
        request = make_consultation()
        url = reverse("admin:consultations_consultationrequest_schedule", args=[request.pk])
        response = client.post(url, {"other": "2026-12-22T09:30"})  # 4 weeks and 30 minutes
        assert "Pick a slot within the next 4 weeks." in page_text(response)
        response = client.post(url, {"other": "2026-12-22T09:00"})  # exactly 4 weeks
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.scheduled_start == datetime(2026, 12, 22, 9, 0, tzinfo=UTC)

    def test_an_editor_cannot_schedule(self, client, editor):
        client.force_login(editor)
        request = make_consultation()
        url = reverse("admin:consultations_consultationrequest_schedule", args=[request.pk])
        assert client.get(url).status_code == 403


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestQueueOpensOnOpenRequests:
    def test_closed_requests_are_behind_the_all_choice(self, client, triager):
        make_consultation(name="Still Open")
        make_consultation(name="Long Done").transition(Status.DECLINED, by=triager)
        text = page_text(client.get(CHANGELIST))
        assert "Still Open" in text and "Long Done" not in text
        text = page_text(client.get(CHANGELIST + "?queue=all"))
        assert "Still Open" in text and "Long Done" in text


class TestSystemRecords:
    """What the worker wrote is visible to superusers, and nobody edits it by hand."""

    def test_scheduled_runs_and_pending_additions_are_listed_read_only(self, admin_client):
        pending = PendingAddition.objects.create(
            request=make_consultation(), note="<b>again</b>", client_ip="203.0.113.5"
        )
        ScheduledRun.objects.claim("warn_due", every=timedelta(minutes=1))
        runs = admin_client.get(reverse("admin:consultations_scheduledrun_changelist"))
        assert runs.status_code == 200 and "warn_due" in runs.content.decode()
        change = admin_client.get(
            reverse("admin:consultations_pendingaddition_change", args=[pending.pk])
        )
        assert "&lt;b&gt;again&lt;/b&gt;" in change.content.decode()
        assert 'name="note"' not in change.content.decode()
        assert admin_client.get(reverse("admin:consultations_scheduledrun_add")).status_code == 403

    def test_the_outbox_list_shows_who_holds_a_lease(self, admin_client):
        OutgoingEmail.objects.create(to="v@example.com", subject="Hi", body="Hi")
        OutgoingEmail.objects.claim_next(token="a" * 32)
        page = admin_client.get(reverse("admin:consultations_outgoingemail_changelist"))
        assert "Leased until" in page.content.decode()


class TestQueueRows:
    """The queue builds its rows itself (admin.queue_rows): they must stay Django's."""

    def test_the_rows_are_the_html_django_would_write(self, client, triager):
        from django.contrib.admin.templatetags.admin_list import results

        make_consultation(name='Ada "<Lovelace>" & co')
        make_consultation(comparison=make_comparison()).assign(to=triager, by=triager)
        overdue = make_consultation(received_at=timezone.now() - timedelta(days=9))
        overdue.respond_by = timezone.now() - timedelta(days=2)
        overdue.visitor_changed_at = timezone.now()
        overdue.save()
        for query in ["", "?queue=all", "?q=Ada", "?o=3.-7", "?queue=all&q=Ada&o=2"]:
            response = client.get(CHANGELIST + query)
            cl = response.context["cl"]
            djangos = "\n".join(
                f"<tr>{''.join(str(cell) for cell in row)}</tr>" for row in results(cl)
            )
            assert response.context["queue_results"]["rows"] == djangos
            assert djangos in response.content.decode()

    def test_a_script_in_a_name_is_escaped(self, client, triager):
        make_consultation(name="<script>alert(1)</script>")
        page = client.get(CHANGELIST).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_checkboxes_labels_and_sort_links_are_there(self, client, triager):
        consultation = make_consultation(name="Grace Hopper")
        page = client.get(CHANGELIST).content.decode()
        assert 'id="action-toggle"' in page  # select all
        assert (
            f'value="{consultation.pk}" class="action-select" '
            f'aria-label="Select this object for an action - {consultation}"'
        ) in page
        assert f'<a href="{change_url(consultation)}">{consultation.reference}</a>' in page
        # reference, name, status, assignee, reply by, visitor changed, language
        for column in (1, 2, 4, 5, 7, 8, 9):
            assert re.search(rf'href="\?o=-?{column}\b', page), column

    def test_the_rows_speak_german(self, client, triager):
        """The admin is English today; the rows' words go through gettext all the same."""
        from django.utils import translation

        from consultations.admin import queue_rows

        make_consultation(name="Grace Hopper")
        cl = client.get(CHANGELIST).context["cl"]
        with translation.override("de"):
            label = translation.gettext("Select this object for an action - {}")
            visitor = translation.gettext(
                "{} <span>(visitor, {})</span> · {} <span>(you, {})</span>"
            )
            rows = queue_rows(cl)
        assert label != "Select this object for an action - {}"
        assert label.split("{}")[0] in rows
        assert visitor.split("{}")[1] in rows
