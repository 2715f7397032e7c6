"""A triager takes a new request from the queue, answers it, and the report counts it."""

import importlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from consultations.models import ConsultationRequest
from tests.factories import make_consultation, make_staff

from .booking import fill_booking_form

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def make_triage_group():
    """The Triage group as migration 0002 makes it.

    Live-server tests run in transactions that end with a flush, which erases
    rows that migrations made; serialized_rollback would restore them but
    collides with the content types the flush recreates.
    """
    migration = importlib.import_module("consultations.migrations.0002_groups")
    codenames = [f"view_{model}" for model in migration.TRIAGE_MODELS]
    codenames += ["change_consultationrequest", "view_report"]
    group, _ = Group.objects.get_or_create(name="Triage")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="consultations", codename__in=codenames)
    )
    return group


def status_count(page, label):
    """The count cell of one row of the report's "Requests by status" table."""
    table = page.locator(".data-table").first
    return table.get_by_role("row", name=re.compile(f"^{label} ")).get_by_role("cell")


def test_triager_assigns_and_answers_the_new_request(live_server, open_page, settings):
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    load_demo_content()
    make_triage_group()
    triager = make_staff("tess", group="Triage", password=PASSWORD)
    colleague = make_staff("colin", group="Triage")
    now = timezone.now()
    # Earlier the same ISO week, so that the report has one week row.
    week_start = (now - timezone.timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    older = make_consultation(received_at=max(now - timezone.timedelta(hours=3), week_start))
    older.assign(to=colleague, by=colleague)

    visitor = open_page("mobile")
    visitor.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")
    fill_booking_form(visitor)
    visitor.get_by_role("button", name="Request my free consultation").click()
    reference = visitor.locator(".reference").inner_text()

    page = open_page("desktop")
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("rowheader", name="Consultation requests").get_by_role("link").click()
    page.get_by_role("link", name="Response report").click()
    expect(status_count(page, "Contacted")).to_have_text("0")
    page.go_back()

    page.get_by_role("link", name="Unassigned").click()
    top = page.locator("#result_list tbody tr").first
    expect(top).to_contain_text(reference)
    expect(top).to_contain_text("PyTorch vs TensorFlow")
    top.locator("input.action-select").check()
    page.get_by_label("Action:").select_option(label="Assign to me")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("Assigned to you: 1 request.")

    # Now assigned, it has left the Unassigned view: back to the whole queue.
    page.locator("#changelist-filter details", has_text="triage queue").get_by_role(
        "link", name="All"
    ).click()
    row = page.locator("#result_list tbody tr", has_text=reference)
    row.locator("input.action-select").check()
    page.get_by_label("Action:").select_option(label="Mark contacted (first response)")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("Marked contacted: 1 request.")
    expect(row).to_contain_text("Contacted")

    page.get_by_role("link", name="Response report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation report")
    expect(status_count(page, "Contacted")).to_have_text("1")
    expect(status_count(page, "New")).to_have_text("1")
    this_week = page.get_by_role("row", name=re.compile(r"^\d{4}-W\d{2} "))
    # Received, settled, answered within 24 h, share: the older request is still running.
    expect(this_week.get_by_role("cell")).to_have_text(["2", "1", "1", "100.0%"])

    consultation = ConsultationRequest.objects.get(reference=reference)
    assert consultation.assignee == triager
    assert consultation.status == ConsultationRequest.Status.CONTACTED
    assert consultation.first_response_at is not None
