"""Draft, scheduled and published; editors' previews; publishing refused while incomplete."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comparisons.models import Comparison
from tests.clock import at
from tests.factories import (
    make_comparison,
    make_factor,
    make_framework,
    make_staff,
)
from tests.support.admin_forms import change_form_data, change_url, winner
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def due():
    """A publish time three days after the test's now."""
    return timezone.now().replace(microsecond=0) + timedelta(days=3)


def changelist_url():
    return reverse("admin:comparisons_comparison_changelist")


@pytest.fixture
def editor(client, editor):
    """In this module the editor is signed in on ``client``."""
    client.force_login(editor)
    return editor


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestScheduledPublication:
    def test_page_appears_exactly_when_its_publish_time_comes(self, client, due):
        comparison = make_comparison(factors=2, published_at=due)
        with at(due - timedelta(seconds=1)):
            assert client.get(comparison.get_absolute_url()).status_code == 404
            assert comparison.title not in page_text(client.get(reverse("comparisons:home")))
            assert comparison.is_scheduled
        with at(due):
            assert client.get(comparison.get_absolute_url()).status_code == 200
            assert comparison.title in page_text(client.get(reverse("comparisons:home")))
            assert comparison.is_public

    def test_queryset_splits_scheduled_from_published(self, due):
        scheduled = make_comparison(published_at=due)
        live = make_comparison()
        make_comparison(published=False)
        assert list(Comparison.objects.scheduled()) == [scheduled]
        assert list(Comparison.objects.published()) == [live]
        assert list(Comparison.objects.published(now=due)) == [scheduled, live]

    def test_admin_list_shows_the_derived_state(self, admin_client, due):
        make_comparison(title="Later one", published_at=due)
        make_comparison(title="Live one")
        make_comparison(title="Draft one", published=False)
        text = page_text(admin_client.get(changelist_url()))
        assert f"Scheduled for {timezone.localtime(due):%Y-%m-%d %H:%M}" in text
        scheduled = page_text(admin_client.get(changelist_url() + "?state=scheduled"))
        assert "Later one" in scheduled
        assert "Live one" not in scheduled and "Draft one" not in scheduled

    def test_unpublishing_takes_the_page_down(self, admin_client, client):
        comparison = make_comparison(factors=1)
        response = admin_client.post(
            changelist_url(),
            {"action": "unpublish", "_selected_action": [comparison.pk]},
        )
        assert response.status_code == 302
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.DRAFT
        assert client.get(comparison.get_absolute_url()).status_code == 404


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestPreview:
    @pytest.mark.parametrize("when", ["draft", "scheduled"])
    def test_editor_sees_a_marked_uncached_unindexed_preview(self, client, editor, when, due):
        if when == "draft":
            comparison = make_comparison(factors=2, published=False, title="Secret plan")
        else:
            comparison = make_comparison(factors=2, published_at=due, title="Secret plan")
        response = client.get(comparison.get_absolute_url())
        assert response.status_code == 200
        body = response.content.decode()
        assert "Preview: not public." in page_text(response)
        assert '<meta name="robots" content="noindex, nofollow">' in body
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control
        assert "Secret plan" in page_text(response)
        if when == "scheduled":
            assert "Scheduled for" in page_text(response)

    def test_a_preview_never_reaches_the_page_cache(self, client, editor):
        comparison = make_comparison(factors=1, published=False, title="Secret plan")
        assert client.get(comparison.get_absolute_url()).status_code == 200
        client.logout()
        for _ in range(2):
            response = client.get(comparison.get_absolute_url())
            assert response.status_code == 404
            assert "Secret plan" not in response.content.decode()

    def test_public_page_has_no_preview_marks(self, client, editor):
        comparison = make_comparison(factors=1)
        response = client.get(comparison.get_absolute_url())
        assert "Preview" not in page_text(response)
        assert 'name="robots"' not in response.content.decode()

    @pytest.mark.parametrize("who", ["anonymous", "signed-in visitor", "staff without rights"])
    def test_draft_is_404_for_everyone_else(self, client, who, visitor, triager):
        comparison = make_comparison(published=False)
        if who == "signed-in visitor":
            client.force_login(visitor)
        elif who == "staff without rights":
            client.force_login(triager)
        assert client.get(comparison.get_absolute_url()).status_code == 404


class TestPublicationProblems:
    def test_complete_comparison_has_none(self):
        assert make_comparison(factors=3).publication_problems() == []

    def test_every_gap_is_named(self):
        pytorch = make_framework("PyTorch")
        comparison = make_comparison(
            [pytorch], published=False, quick_verdict="", meta_description=""
        )
        factor = make_factor(comparison, name="Speed")
        factor.assessments.all().delete()
        problems = comparison.publication_problems()
        assert [str(problem) for problem in problems] == [
            "It compares fewer than two frameworks: add at least two.",
            'Factor "Speed": no assessment for PyTorch; no winner (choose a framework or Tie).',
            "It has no quick verdict.",
            "It has no meta description for search engines.",
        ]
        # Each says where it is fixed: one place per problem.
        assert [(p.field, p.factor) for p in problems] == [
            ("participants", None),
            ("", factor),
            ("quick_verdict", None),
            ("meta_description", None),
        ]

    def test_a_tie_is_a_decision(self):
        comparison = make_comparison(published=False)
        make_factor(comparison, is_tie=True)
        assert comparison.publication_problems() == []

    def test_missing_assessment_names_the_framework(self):
        comparison = make_comparison([make_framework("Alpha"), make_framework("Beta")])
        factor = make_factor(comparison, name="Docs", winner=comparison.participants.first())
        factor.assessments.filter(participant__framework__name="Beta").delete()
        assert [str(problem) for problem in comparison.publication_problems()] == [
            'Factor "Docs": no assessment for Beta.'
        ]


# clock: `pytest --every-date` runs these on many dates.
@pytest.mark.clock
class TestPublishingInTheAdmin:
    def test_incomplete_comparison_is_saved_as_draft_with_the_reasons(self, admin_client, client):
        comparison = make_comparison(published=False, quick_verdict="")
        make_factor(comparison, name="Speed")  # no winner
        data = change_form_data(comparison, status="published", title="Kept title")
        response = admin_client.post(change_url(comparison), data, follow=True)
        text = page_text(response)
        assert "was saved as a draft, not published. Fix 2 things and publish again:" in text
        assert 'Factor "Speed": no winner (choose a framework or Tie).' in text
        assert "It has no quick verdict." in text
        # One message, not a refusal beside "was changed successfully".
        assert "successfully" not in text
        assert response.redirect_chain[-1][0] == change_url(comparison)
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.DRAFT
        assert comparison.title == "Kept title"  # the edit itself is kept
        assert client.get(comparison.get_absolute_url()).status_code == 404

    def test_completing_the_last_gap_in_the_same_save_publishes(self, admin_client, client):
        comparison = make_comparison(published=False)
        factor = make_factor(comparison, name="Speed")
        data = change_form_data(comparison, status="published")
        data["factors-0-decision"] = "tie"
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302
        comparison.refresh_from_db()
        factor.refresh_from_db()
        assert factor.is_tie
        assert comparison.status == Comparison.Status.PUBLISHED
        assert client.get(comparison.get_absolute_url()).status_code == 200

    def test_publish_action_refuses_incomplete_and_publishes_complete(self, admin_client):
        ready = make_comparison(published=False, factors=2, title="Ready")
        unready = make_comparison(published=False, meta_description="", title="Unready")
        response = admin_client.post(
            changelist_url(),
            {"action": "publish", "_selected_action": [ready.pk, unready.pk]},
            follow=True,
        )
        text = page_text(response)
        assert (
            '"Unready" was not published. Fix one thing and publish again: It has no meta' in text
        )
        assert "Published 1 comparison." in text
        ready.refresh_from_db()
        unready.refresh_from_db()
        assert ready.is_public
        assert unready.status == Comparison.Status.DRAFT

    def test_publish_action_keeps_a_future_publish_time(self, admin_client, due):
        comparison = make_comparison(published=False, factors=1, published_at=due)
        admin_client.post(
            changelist_url(), {"action": "publish", "_selected_action": [comparison.pk]}
        )
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.PUBLISHED
        assert comparison.is_scheduled


class TestOnlyPublishersPublish:
    @pytest.fixture
    def writer(self, client):
        """An editor with every comparisons model permission but not publish."""
        models = ["comparison", "framework", "participant", "factor", "assessment", "statistic"]
        permissions = [
            f"comparisons.{verb}_{model}"
            for model in models
            for verb in ("add", "change", "delete", "view")
        ]
        user = make_staff("writer", permissions=permissions)
        client.force_login(user)
        return user

    def test_status_is_read_only_for_them(self, client, writer):
        comparison = make_comparison(published=False, factors=1)
        page = client.get(change_url(comparison)).content.decode()
        assert 'name="status"' not in page
        assert 'name="published_at_0"' not in page

    def test_posting_published_anyway_changes_nothing(self, client, writer):
        comparison = make_comparison(published=False, factors=1)
        now = timezone.now()
        data = change_form_data(
            comparison,
            status="published",
            published_at_0=f"{now:%Y-%m-%d}",
            published_at_1="00:00:00",
            subtitle="Edited by the writer",
        )
        assert client.post(change_url(comparison), data).status_code == 302
        comparison.refresh_from_db()
        assert comparison.subtitle == "Edited by the writer"
        assert comparison.status == Comparison.Status.DRAFT

    def test_publish_action_is_not_offered_or_accepted(self, client, writer):
        comparison = make_comparison(published=False, factors=1)
        page = client.get(changelist_url()).content.decode()
        assert 'value="publish"' not in page
        assert 'value="mark_reviewed"' in page
        client.post(changelist_url(), {"action": "publish", "_selected_action": [comparison.pk]})
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.DRAFT

    def test_new_comparisons_start_as_drafts(self, client, writer):
        frameworks = [make_framework(), make_framework()]
        data = {
            "title": "New page",
            "slug": "new-page",
            "category": "Technology",
            "status": "published",
            "quick_verdict": "Yes.",
            "meta_description": "Meta.",
            "participants-TOTAL_FORMS": "2",
            "participants-INITIAL_FORMS": "0",
            "factors-TOTAL_FORMS": "0",
            "factors-INITIAL_FORMS": "0",
            "statistics-TOTAL_FORMS": "0",
            "statistics-INITIAL_FORMS": "0",
        }
        for index, framework in enumerate(frameworks):
            data[f"participants-{index}-position"] = str(index + 1)
            data[f"participants-{index}-framework"] = str(framework.pk)
        response = client.post(reverse("admin:comparisons_comparison_add"), data)
        assert response.status_code == 302
        assert Comparison.objects.get(slug="new-page").status == Comparison.Status.DRAFT


def test_editor_previews_a_draft_whose_address_is_a_public_pages_reversed_pair(client, editor):
    live = make_comparison(slug="alpha-vs-beta")
    draft = make_comparison(slug="beta-vs-alpha", published=False, title="Draft rewrite")
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200 and "Draft rewrite" in page_text(response)
    client.logout()
    assert client.get(draft.get_absolute_url())["Location"] == live.get_absolute_url()


@pytest.mark.clock
class TestHonestPublishTime:
    def test_a_refused_publish_stamps_no_publish_time(self, admin_client):
        comparison = make_comparison(published=False, quick_verdict="")
        admin_client.post(change_url(comparison), change_form_data(comparison, status="published"))
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.DRAFT
        assert comparison.published_at is None

    def test_the_live_page_shows_the_time_of_the_publish_that_succeeded(self, admin_client, client):
        comparison = make_comparison(published=False, quick_verdict="")
        admin_client.post(change_url(comparison), change_form_data(comparison, status="published"))
        later = timezone.now().replace(microsecond=0) + timedelta(hours=2)
        with at(later):
            data = change_form_data(comparison, status="published", quick_verdict="Now complete.")
            assert admin_client.post(change_url(comparison), data).status_code == 302
            comparison.refresh_from_db()
            assert comparison.is_public
            text = page_text(client.get(comparison.get_absolute_url()))
        assert comparison.published_at == later
        assert f"Published on {timezone.localtime(later):%-d %B %Y}" in text

    def test_a_draft_preview_says_draft_not_published_on(self, client, editor):
        comparison = make_comparison(published=False)
        # Unpublished after having been public: the old time is kept but not shown.
        comparison.published_at = timezone.now() - timedelta(days=3)
        comparison.save()
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "This comparison is a draft." in text
        assert "Published on" not in text

    def test_the_change_page_calls_the_link_to_a_draft_preview(self, client, editor):
        draft = make_comparison(published=False)
        public = make_comparison()
        draft_page = page_text(client.get(change_url(draft)))
        public_page = page_text(client.get(change_url(public)))
        assert "Preview" in draft_page and "View on site" not in draft_page
        assert "View on site" in public_page and "Preview" not in public_page


class TestRecommendationCheck:
    """The Recommended badge on a framework that does not lead asks the editor first."""

    def recommend_the_loser(self, **extra):
        comparison = make_comparison(published=False, factors=3)  # A wins 2, B wins 1
        data = change_form_data(comparison)
        data["participants-1-is_recommended"] = "on"
        data.update(extra)
        return comparison, data

    def test_recommending_a_trailing_framework_is_refused_with_the_scores(self, admin_client):
        comparison, data = self.recommend_the_loser()
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 200
        loser, leader = comparison.participants.order_by("-position")
        assert (
            f"{loser.framework.name} is marked Recommended but wins 1 of 3 factors, while "
            f"{leader.framework.name} wins 2." in page_text(response)
        )
        assert not comparison.participants.filter(is_recommended=True).exists()

    def test_the_editor_can_confirm_it(self, admin_client):
        comparison, data = self.recommend_the_loser(keep_recommendation="on")
        assert admin_client.post(change_url(comparison), data).status_code == 302
        assert comparison.participants.get(is_recommended=True).position == 2

    def test_a_decision_change_that_drops_the_recommended_framework_is_caught(self, admin_client):
        comparison = make_comparison(published=False, factors=2)  # a 1-1 draw
        comparison.participants.filter(position=1).update(is_recommended=True)
        data = change_form_data(comparison)
        data["factors-0-decision"] = winner(1)  # B now wins both
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 200
        assert "is marked Recommended but wins 0 of 2 factors" in page_text(response)

    def test_a_leading_or_level_recommendation_needs_no_confirmation(self, admin_client):
        comparison = make_comparison(published=False, factors=2)  # a 1-1 draw
        data = change_form_data(comparison)
        data["participants-1-is_recommended"] = "on"
        assert admin_client.post(change_url(comparison), data).status_code == 302
