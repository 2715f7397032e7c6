"""An editor builds and publishes a whole 3-way comparison from its admin page."""

import pytest
from django.urls import reverse

from comparisons.models import Comparison
from tests.factories import make_comparison, make_framework
from tests.support.admin_forms import (
    assessment,
    change_form_data,
    change_url,
    comparison_fields,
    management,
    winner,
)
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db


def existing_participants(comparison):
    data = management("participants", 3, 3)
    for index, participant in enumerate(comparison.participants.all()):
        data.update(
            {
                f"participants-{index}-id": str(participant.pk),
                f"participants-{index}-comparison": str(comparison.pk),
                f"participants-{index}-position": str(participant.position),
                f"participants-{index}-framework": str(participant.framework_id),
                f"participants-{index}-choose_when": f"Reason for {participant.framework.name}",
            }
        )
    return data


def one_save_of_a_three_way_comparison(frameworks, **overrides):
    """Everything of a new three-way comparison in one POST: frameworks in the
    three blank rows, two factors (one a tie) with every assessment, one statistic."""
    data = comparison_fields(status="published")
    data.update(management("participants", 3))
    for row, framework in enumerate(frameworks):
        data[f"participants-{row}-framework"] = str(framework.pk)
        data[f"participants-{row}-choose_when"] = f"Teams that like {framework.name}"
    data.update(management("factors", 3))
    for index, (name, decision) in enumerate([("Developer Experience", winner(0)), ("TPU", "tie")]):
        data[f"factors-{index}-name"] = name
        data[f"factors-{index}-decision"] = decision
        for row, framework in enumerate(frameworks):
            data[f"factors-{index}-{assessment(row)}"] = f"{framework.name} on {name}"
    data.update(management("statistics", 1))
    data.update(
        {
            "statistics-0-value": "3",
            "statistics-0-description": "frameworks compared on this page",
            "statistics-0-source_name": "This page",
            "statistics-0-source_url": "https://example.org/three",
            "statistics-0-year": "2026",
        }
    )
    data.update(overrides)
    return data


class TestThreeWayComparison:
    def test_a_new_comparison_offers_three_framework_rows_and_their_assessments(self, admin_client):
        page = admin_client.get(reverse("admin:comparisons_comparison_add")).content.decode()
        for row in range(3):
            assert f'name="participants-{row}-framework"' in page
            assert f'name="factors-0-{assessment(row)}"' in page
            assert f"Framework in row {row + 1} assessment" in page

    def test_editor_builds_and_publishes_a_three_way_comparison_in_one_save(
        self, admin_client, client
    ):
        frameworks = [make_framework(n) for n in ("PyTorch", "TensorFlow", "JAX")]
        response = admin_client.post(
            reverse("admin:comparisons_comparison_add"),
            one_save_of_a_three_way_comparison(frameworks),
        )
        assert response.status_code == 302, response.context["errors"]
        comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow-vs-jax")
        assert [p.framework for p in comparison.participants.all()] == frameworks
        assert comparison.status == "published" and comparison.published_at is not None
        assert str(comparison.scoreboard()) == "PyTorch 1/2, TensorFlow 0/2, JAX 0/2, 1 tie"
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert "JAX on TPU" in body
        assert "frameworks compared on this page" in body

    def test_rows_left_without_a_position_are_numbered_in_page_order(self, admin_client):
        frameworks = [make_framework(n) for n in ("PyTorch", "TensorFlow", "JAX")]
        data = one_save_of_a_three_way_comparison(frameworks)
        # Typed numbers order their rows; the row left empty goes last.
        data["participants-0-position"] = "7"
        data["participants-1-position"] = "3"
        admin_client.post(reverse("admin:comparisons_comparison_add"), data)
        comparison = Comparison.objects.get()
        participants = comparison.participants.all()
        assert [(p.position, p.framework.name) for p in participants] == [
            (1, "TensorFlow"),
            (2, "PyTorch"),
            (3, "JAX"),
        ]
        assert list(comparison.factors.values_list("position", "name")) == [
            (1, "Developer Experience"),
            (2, "TPU"),
        ]
        assert list(comparison.statistics.values_list("position", flat=True)) == [1]

    def test_an_assessment_for_an_empty_framework_row_is_explained_and_kept(self, admin_client):
        frameworks = [make_framework(n) for n in ("PyTorch", "TensorFlow", "JAX")]
        data = one_save_of_a_three_way_comparison(frameworks)
        data["participants-2-framework"] = ""
        response = admin_client.post(reverse("admin:comparisons_comparison_add"), data)
        assert response.status_code == 200
        text = page_text(response)
        assert "Row 3 of the compared frameworks has no framework yet" in text
        assert "JAX on TPU" in text  # what was typed is still in the form
        assert not Comparison.objects.exists()

    def test_a_winner_in_an_empty_framework_row_is_explained(self, admin_client):
        frameworks = [make_framework(n) for n in ("PyTorch", "TensorFlow")]
        data = one_save_of_a_three_way_comparison(frameworks)
        data["factors-0-decision"] = winner(2)
        for index in range(2):
            data.pop(f"factors-{index}-{assessment(2)}", None)
        response = admin_client.post(reverse("admin:comparisons_comparison_add"), data)
        assert response.status_code == 200
        assert "The winner's framework row is empty" in page_text(response)

    def test_a_draft_with_one_framework_saves_again_as_it_reopens(self, admin_client):
        comparison = make_comparison([make_framework("Solo")], published=False)
        page = admin_client.get(change_url(comparison))
        # The blank row offered is optional: saving the page as it comes back works.
        formset = page.context["inline_admin_formsets"][0].formset
        assert formset.min_num == 0
        data = change_form_data(comparison)
        data.update(management("participants", 2, 1))
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302, response.context["errors"]
        assert comparison.participants.count() == 1

    def test_winner_outside_the_comparison_is_a_form_error(self, admin_client):
        comparison = make_comparison(published=False)
        outsider = make_comparison().participants.first()
        participants = list(comparison.participants.all())
        data = comparison_fields(title=comparison.title, slug=comparison.slug)
        data.update(existing_participants(comparison))
        data.update(management("participants", 2, 2))
        data.update(management("factors", 1))
        data.update(
            {
                "factors-0-position": "1",
                "factors-0-name": "Speed",
                "factors-0-decision": str(outsider.pk),
                f"factors-0-assessment_{participants[0].pk}": "Fast",
                f"factors-0-assessment_{participants[1].pk}": "Faster",
            }
        )
        data.update(management("statistics", 0))
        url = change_url(comparison)
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert (
            "Choose one of the frameworks in this comparison, or Tie." in response.content.decode()
        )
        assert not comparison.factors.exists()

    def test_statistic_with_unsafe_link_is_explained(self, admin_client):
        comparison = make_comparison(published=False)
        data = comparison_fields(title=comparison.title, slug=comparison.slug)
        data.update(existing_participants(comparison))
        data.update(management("participants", 2, 2))
        data.update(management("factors", 0))
        data.update(management("statistics", 1))
        data.update(
            {
                "statistics-0-position": "1",
                "statistics-0-value": "9",
                "statistics-0-source_url": "ftp://example.org/x",
            }
        )
        url = change_url(comparison)
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert not comparison.statistics.exists()
