"""An editor builds and publishes a whole 3-way comparison from its admin page."""

import pytest
from django.urls import reverse

from comparisons.models import Comparison
from tests.factories import make_comparison, make_framework
from tests.support.admin_forms import change_url, comparison_fields, management

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


class TestThreeWayComparison:
    def test_editor_creates_and_publishes_a_three_way_comparison(self, admin_client, client):
        pytorch, tensorflow, jax = (make_framework(n) for n in ("PyTorch", "TensorFlow", "JAX"))

        # Step 1: the comparison and its three frameworks, in order.
        data = comparison_fields()
        data.update(management("participants", 3))
        for index, framework in enumerate([pytorch, tensorflow, jax]):
            data[f"participants-{index}-position"] = str(index + 1)
            data[f"participants-{index}-framework"] = str(framework.pk)
            data[f"participants-{index}-choose_when"] = f"Teams that like {framework.name}"
        data["participants-0-is_recommended"] = "on"
        data.update(management("factors", 0))
        data.update(management("statistics", 0))
        response = admin_client.post(reverse("admin:comparisons_comparison_add"), data)
        assert response.status_code == 302, response.context["errors"]
        comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow-vs-jax")
        assert [p.framework for p in comparison.participants.all()] == [pytorch, tensorflow, jax]

        # Step 2: the factor form now has one assessment per framework.
        page = admin_client.get(change_url(comparison)).content.decode()
        for name in ("PyTorch", "TensorFlow", "JAX"):
            assert f"{name} assessment" in page
        participants = list(comparison.participants.all())

        data = comparison_fields(status="published")
        data.update(existing_participants(comparison))
        data["participants-0-is_recommended"] = "on"
        data.update(management("factors", 2))
        factors = [("Developer Experience", participants[0].pk), ("TPU support", "tie")]
        for index, (name, decision) in enumerate(factors):
            data[f"factors-{index}-position"] = str(index + 1)
            data[f"factors-{index}-name"] = name
            data[f"factors-{index}-decision"] = str(decision)
            for participant in participants:
                data[f"factors-{index}-assessment_{participant.pk}"] = (
                    f"{participant.framework.name} on {name}"
                )
        data.update(management("statistics", 1))
        data.update(
            {
                "statistics-0-position": "1",
                "statistics-0-value": "3",
                "statistics-0-description": "frameworks compared on this page",
                "statistics-0-source_name": "This page",
                "statistics-0-source_url": "https://example.org/three",
                "statistics-0-year": "2026",
            }
        )
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302, response.context["errors"]

        comparison.refresh_from_db()
        assert comparison.status == "published" and comparison.published_at is not None
        assert str(comparison.scoreboard()) == "PyTorch 1/2, TensorFlow 0/2, JAX 0/2, 1 tie"
        public = client.get(comparison.get_absolute_url())
        assert public.status_code == 200
        body = public.content.decode()
        assert "JAX on TPU support" in body
        assert "frameworks compared on this page" in body

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
