"""The content model's rules: constraints in the database, score derived from winners."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from comparisons.models import Assessment, Comparison, Factor, Participant, Statistic
from tests.factories import make_comparison, make_factor, make_framework, make_statistic

pytestmark = pytest.mark.django_db


def integrity_error(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


class TestWinnerMustBelongToTheComparison:
    def test_winner_from_another_comparison_is_refused_on_insert(self):
        ours = make_comparison()
        theirs = make_comparison()
        foreign = theirs.participants.first()
        integrity_error(
            lambda: Factor.objects.create(comparison=ours, name="Speed", winner=foreign)
        )
        assert not ours.factors.exists()

    def test_winner_from_another_comparison_is_refused_on_update(self):
        ours = make_comparison(factors=1)
        theirs = make_comparison()
        factor = ours.factors.get()
        factor.winner = theirs.participants.first()
        integrity_error(factor.save)
        factor.refresh_from_db()
        assert factor.winner.comparison == ours

    def test_winner_from_the_same_comparison_is_accepted(self):
        comparison = make_comparison()
        participant = comparison.participants.last()
        factor = Factor.objects.create(comparison=comparison, name="Speed", winner=participant)
        assert factor.winner == participant

    def test_assessment_for_another_comparisons_framework_is_refused(self):
        ours = make_comparison(factors=1)
        theirs = make_comparison()
        integrity_error(
            lambda: Assessment.objects.create(
                factor=ours.factors.get(), participant=theirs.participants.first(), text="Fast"
            )
        )

    def test_a_factor_cannot_have_a_winner_and_be_a_tie(self):
        comparison = make_comparison()
        integrity_error(
            lambda: Factor.objects.create(
                comparison=comparison,
                name="Speed",
                winner=comparison.participants.first(),
                is_tie=True,
            )
        )


class TestOtherConstraints:
    def test_a_framework_appears_once_per_comparison(self):
        framework = make_framework()
        comparison = make_comparison([framework, make_framework()])
        integrity_error(
            lambda: Participant.objects.create(
                comparison=comparison, framework=framework, position=3
            )
        )

    def test_at_most_one_recommended_framework(self):
        comparison = make_comparison()
        comparison.participants.update(is_recommended=False)
        first, second = comparison.participants.all()
        first.is_recommended = True
        first.save()
        second.is_recommended = True
        integrity_error(second.save)

    def test_published_comparison_needs_a_publish_time(self):
        integrity_error(
            lambda: Comparison.objects.create(
                title="T", slug="t", status=Comparison.Status.PUBLISHED, published_at=None
            )
        )

    def test_unknown_status_is_refused(self):
        integrity_error(lambda: Comparison.objects.create(title="T", slug="t", status="secret"))

    def test_statistic_link_must_be_http(self):
        comparison = make_comparison()
        integrity_error(lambda: make_statistic(comparison, source_url="javascript:alert(1)"))

    def test_statistic_needs_a_value(self):
        comparison = make_comparison()
        integrity_error(lambda: make_statistic(comparison, value=""))

    def test_assessment_text_cannot_be_empty(self):
        comparison = make_comparison(factors=1)
        factor = comparison.factors.get()
        factor.assessments.all().delete()
        integrity_error(
            lambda: Assessment.objects.create(
                factor=factor, participant=comparison.participants.first(), text=""
            )
        )


class TestScoreboard:
    def test_score_is_derived_from_the_winners(self):
        comparison = make_comparison()
        first, second = comparison.participants.all()
        for winner in (first, first, second):
            make_factor(comparison, winner=winner)
        make_factor(comparison, is_tie=True)
        make_factor(comparison)  # not decided yet

        scoreboard = comparison.scoreboard()

        assert [row.wins for row in scoreboard.rows] == [2, 1]
        assert scoreboard.ties == 1
        assert scoreboard.total == 5

    def test_changing_a_winner_changes_the_score(self):
        comparison = make_comparison(factors=2)
        assert [row.wins for row in comparison.scoreboard().rows] == [1, 1]
        factor = comparison.factors.last()
        factor.winner = comparison.participants.first()
        factor.save()
        assert [row.wins for row in comparison.scoreboard().rows] == [2, 0]

    def test_three_way_score_reads_as_text(self):
        jax = make_framework("JAX")
        comparison = make_comparison([make_framework("Alpha"), make_framework("Beta"), jax])
        alpha, beta, jax_participant = comparison.participants.all()
        make_factor(comparison, winner=jax_participant)
        make_factor(comparison, winner=alpha)
        make_factor(comparison, is_tie=True)

        assert str(comparison.scoreboard()) == "Alpha 1/3, Beta 0/3, JAX 1/3, 1 tie"


class TestPublicQueryset:
    def test_published_in_the_past_is_public(self):
        comparison = make_comparison()
        assert list(Comparison.objects.published()) == [comparison]

    def test_drafts_and_future_publish_times_are_not_public(self):
        make_comparison(published=False)
        make_comparison(
            status=Comparison.Status.PUBLISHED,
            published_at=timezone.now() + timezone.timedelta(minutes=5),
        )
        assert not Comparison.objects.published().exists()


class TestStatisticCompleteness:
    def test_each_missing_part_makes_a_statistic_incomplete(self):
        comparison = make_comparison()
        complete = make_statistic(comparison)
        incomplete = [
            make_statistic(comparison, description=""),
            make_statistic(comparison, source_name=""),
            make_statistic(comparison, source_url=""),
            make_statistic(comparison, year=None),
        ]
        assert list(Statistic.objects.complete()) == [complete]
        assert set(Statistic.objects.incomplete()) == set(incomplete)
        assert [s.missing_parts() for s in incomplete] == [
            ["description"],
            ["source"],
            ["source link"],
            ["year"],
        ]
