"""Who may reach which admin and staff page, and CSRF on every state-changing form.

One table gives, for each admin and staff page, what an anonymous visitor,
an Editors member, a Triage member and a superuser get. (The consultation
queue, a request's change page, the report and its CSV are also checked in
tests/consultations/test_admin.py::TestPermissionMatrix; they are in the
table too so that it reads as the whole picture.) A second table posts every
state-changing form without the CSRF token and expects 403 with nothing changed.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comparisons.models import Comparison
from consultations import invitations, outbox
from consultations.models import ConsultationRequest, OutgoingEmail
from tests.consultations.helpers import booking_data
from tests.factories import make_comparison, make_consultation, make_staff
from tests.support.admin_forms import change_url, comparison_fields, management
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "editor", "triager", "superuser"]
LOGIN = "login"  # a redirect to the admin sign-in page
CONSULTATION_PAGE = {"anonymous": LOGIN, "editor": 403, "triager": 200, "superuser": 200}
COMPARISON_PAGE = {"anonymous": LOGIN, "editor": 200, "triager": 403, "superuser": 200}
ERASURE_PAGE = {"anonymous": LOGIN, "editor": 403, "triager": 403, "superuser": 200}
ANY_STAFF_PAGE = {"anonymous": LOGIN, "editor": 200, "triager": 200, "superuser": 200}


def slot():
    day = timezone.now().date() + timedelta(days=3)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def objects():
    consultation = make_consultation(windows=[slot()])
    outbox.queue_email(
        to=["visitor@example.com"],
        template="confirmation",
        context={"request": consultation, "windows": [], "respond_by": "", "page_url": ""},
        request=consultation,
    )
    return {
        "request": consultation,
        "email": OutgoingEmail.objects.get(),
        "comparison": make_comparison(),
    }


# page: (how to build its URL from the objects, who gets what)
PAGES = {
    "admin index": (lambda o: reverse("admin:index"), ANY_STAFF_PAGE),
    "request queue": (
        lambda o: reverse("admin:consultations_consultationrequest_changelist"),
        CONSULTATION_PAGE,
    ),
    "request change page": (
        lambda o: change_url(o["request"]),
        CONSULTATION_PAGE,
    ),
    "schedule page": (
        lambda o: reverse(
            "admin:consultations_consultationrequest_schedule", args=[o["request"].pk]
        ),
        CONSULTATION_PAGE,
    ),
    "report": (lambda o: reverse("consultations:report"), CONSULTATION_PAGE),
    "report CSV": (lambda o: reverse("consultations:report") + "?format=csv", CONSULTATION_PAGE),
    "outbox": (
        lambda o: reverse("admin:consultations_outgoingemail_changelist"),
        CONSULTATION_PAGE,
    ),
    "outbox message": (
        lambda o: change_url(o["email"]),
        CONSULTATION_PAGE,
    ),
    "due warnings": (
        lambda o: reverse("admin:consultations_duewarning_changelist"),
        CONSULTATION_PAGE,
    ),
    "erase a person's data": (
        lambda o: reverse("admin:consultations_consultationrequest_erase"),
        ERASURE_PAGE,
    ),
    "comparisons": (lambda o: reverse("admin:comparisons_comparison_changelist"), COMPARISON_PAGE),
    "comparison change page": (
        lambda o: change_url(o["comparison"]),
        COMPARISON_PAGE,
    ),
    "new comparison": (lambda o: reverse("admin:comparisons_comparison_add"), COMPARISON_PAGE),
    "frameworks": (lambda o: reverse("admin:comparisons_framework_changelist"), COMPARISON_PAGE),
    "statistics": (lambda o: reverse("admin:comparisons_statistic_changelist"), COMPARISON_PAGE),
}


@pytest.fixture
def client_for(request):
    """``client_for(persona)``: a new client signed in as that persona (tests/conftest.py)."""

    def client_for_(persona, *, enforce_csrf_checks=False):
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        return client

    return client_for_


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_admin_and_staff_page_answers_each_persona_as_the_table_says(
    persona, objects, client_for
):
    client = client_for(persona)
    seen = {}
    for page, (url_for, _) in PAGES.items():
        response = client.get(url_for(objects))
        if response.status_code == 302 and response["Location"].startswith(reverse("admin:login")):
            seen[page] = LOGIN
        else:
            seen[page] = response.status_code
    assert seen == {page: expected[persona] for page, (_, expected) in PAGES.items()}


class TestStateChangesAcrossRoles:
    def test_a_triager_cannot_change_a_comparison(self, objects, client_for):
        comparison = objects["comparison"]
        response = client_for("triager").post(
            reverse("admin:comparisons_comparison_delete", args=[comparison.pk]), {"post": "yes"}
        )
        assert response.status_code == 403
        assert Comparison.objects.filter(pk=comparison.pk).exists()

    def test_an_editor_cannot_act_on_requests(self, objects, client_for):
        consultation = objects["request"]
        client = client_for("editor")
        change = change_url(consultation)
        assert client.post(change, {"status": "declined", "assignee": ""}).status_code == 403
        schedule = reverse(
            "admin:consultations_consultationrequest_schedule", args=[consultation.pk]
        )
        assert client.post(schedule, {"window": slot().isoformat()}).status_code == 403
        consultation.refresh_from_db()
        assert consultation.status == ConsultationRequest.Status.NEW

    def test_a_triager_cannot_delete_outbox_messages_or_requests(self, objects, client_for):
        client = client_for("triager")
        response = client.post(
            reverse("admin:consultations_outgoingemail_changelist"),
            {"action": "delete_selected", "_selected_action": [objects["email"].pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
        assert OutgoingEmail.objects.filter(pk=objects["email"].pk).exists()
        delete = reverse(
            "admin:consultations_consultationrequest_delete", args=[objects["request"].pk]
        )
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert ConsultationRequest.objects.filter(pk=objects["request"].pk).exists()


# --- CSRF ---------------------------------------------------------------------------


def scheduled_with_cancel_link():
    triager = make_staff("tess", group="Triage")
    consultation = make_consultation(email="ada@example.com", windows=[slot()])
    invitations.schedule_consultation(consultation=consultation, start=slot(), by=triager)
    token = invitations.cancel_token(consultation)
    return consultation, reverse("consultations:cancel", args=[token])


def changelist(model):
    return reverse(f"admin:consultations_{model}_changelist")


# form: (who posts, how to set it up -> (url, data), what must not have changed)
CSRF_FORMS = {
    "booking form": (
        "anonymous",
        lambda o: (reverse("consultations:book"), booking_data()),
        lambda o: ConsultationRequest.objects.count() == 1,
    ),
    "cancel form": (
        "anonymous",
        lambda o: (o.setdefault("cancel", scheduled_with_cancel_link())[1], {}),
        lambda o: ConsultationRequest.objects.get(pk=o["cancel"][0].pk).status == "scheduled",
    ),
    "request change page": (
        "triager",
        lambda o: (
            change_url(o["request"]),
            {"status": "declined", "assignee": "", "note": "x"},
        ),
        lambda o: ConsultationRequest.objects.get(pk=o["request"].pk).status == "new",
    ),
    "queue action": (
        "triager",
        lambda o: (
            changelist("consultationrequest"),
            {"action": "mark_spam", "_selected_action": [o["request"].pk]},
        ),
        lambda o: ConsultationRequest.objects.get(pk=o["request"].pk).status == "new",
    ),
    "schedule page": (
        "triager",
        lambda o: (
            reverse("admin:consultations_consultationrequest_schedule", args=[o["request"].pk]),
            {"window": slot().isoformat()},
        ),
        lambda o: ConsultationRequest.objects.get(pk=o["request"].pk).status == "new",
    ),
    "erase page": (
        "superuser",
        lambda o: (
            reverse("admin:consultations_consultationrequest_erase"),
            {"email": o["request"].email, "confirm": "on"},
        ),
        lambda o: ConsultationRequest.objects.get(pk=o["request"].pk).name != "Anonymised",
    ),
    "outbox delete action": (
        "superuser",
        lambda o: (
            changelist("outgoingemail"),
            {"action": "delete_selected", "_selected_action": [o["email"].pk], "post": "yes"},
        ),
        lambda o: OutgoingEmail.objects.filter(pk=o["email"].pk).exists(),
    ),
    "comparison delete page": (
        "editor",
        lambda o: (
            reverse("admin:comparisons_comparison_delete", args=[o["comparison"].pk]),
            {"post": "yes"},
        ),
        lambda o: Comparison.objects.filter(pk=o["comparison"].pk).exists(),
    ),
    "new comparison": (
        "editor",
        lambda o: (
            reverse("admin:comparisons_comparison_add"),
            comparison_fields()
            | management("participants", 0)
            | management("factors", 0)
            | management("statistics", 0),
        ),
        lambda o: Comparison.objects.count() == 1,
    ),
    "admin sign-out": ("superuser", lambda o: (reverse("admin:logout"), {}), lambda o: True),
}


@pytest.mark.parametrize("form", CSRF_FORMS)
def test_a_state_changing_form_without_the_csrf_token_is_refused(form, objects, client_for):
    persona, setup, unchanged = CSRF_FORMS[form]
    url, data = setup(objects)
    before = ConsultationRequest.objects.count()
    client = client_for(persona, enforce_csrf_checks=True)
    response = client.post(url, data)
    assert response.status_code == 403
    text = page_text(response)
    # The site's own page, saying what happened and what to do.
    assert "This form could not be sent" in text and "CSRF verification failed" in text
    assert "Nothing was sent or saved. " in text and "send the form again" in text
    assert unchanged(objects)
    assert ConsultationRequest.objects.count() == before
