"""The weighted score and the flip note, checked against a search of every weighting."""

import itertools
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from comparisons.weighing import (
    DEFAULT_WEIGHT,
    WEIGHTS,
    factor_keys,
    read_weights,
    scores_at,
    sole_leader,
    weigh,
    weights_query,
)


def participant(pk, name):
    return SimpleNamespace(pk=pk, framework=SimpleNamespace(name=name))


def factor(pk, name, winner=None, tie=False):
    return SimpleNamespace(pk=pk, name=name, winner_id=winner, is_tie=tie)


FRAMEWORK_NAMES = ["PyTorch", "TensorFlow", "JAX", "MXNet"]


@st.composite
def comparisons(draw, max_factors=5):
    """Small comparisons: 2-4 frameworks, up to 5 factors (won, tied or undecided),
    and the reader's current weights."""
    count = draw(st.integers(2, 4))
    people = [participant(index + 1, FRAMEWORK_NAMES[index]) for index in range(count)]
    rows = []
    for index in range(draw(st.integers(0, max_factors))):
        outcome = draw(st.sampled_from(["tie", "undecided", *range(count)]))
        rows.append(
            factor(
                100 + index,
                f"Factor {index}",
                winner=people[outcome].pk if isinstance(outcome, int) else None,
                tie=outcome == "tie",
            )
        )
    weights = {row.pk: draw(st.sampled_from(list(WEIGHTS.values()))) for row in rows}
    return people, rows, weights


def fewest_changes_by_search(people, rows, weights):
    """Try every weighting: the fewest factors whose weight differs from ``weights``
    in one that gives the page a sole leader other than today's (None: none does)."""
    now = sole_leader(scores_at(people, rows, weights))
    best = None
    for values in itertools.product(WEIGHTS.values(), repeat=len(rows)):
        trial = dict(zip((row.pk for row in rows), values, strict=True))
        leader = sole_leader(scores_at(people, rows, trial))
        if leader is None or leader == now:
            continue
        changes = sum(trial[pk] != weights[pk] for pk in trial)
        best = changes if best is None else min(best, changes)
    return best


@settings(max_examples=400, deadline=None)
@given(comparisons())
def test_the_flip_needs_exactly_the_fewest_changes(comparison):
    people, rows, weights = comparison
    flip = weigh(people, rows, weights).flip
    expected = fewest_changes_by_search(people, rows, weights)
    assert (flip.changes if flip else None) == expected


@settings(max_examples=400, deadline=None)
@given(comparisons())
def test_the_flip_does_what_it_says_at_the_lowest_weight_that_does(comparison):
    people, rows, weights = comparison
    flip = weigh(people, rows, weights).flip
    if flip is None:
        return

    def apply(level):
        trial = dict(weights)
        for row in flip.raised:
            trial[row.pk] = level
        for row in flip.lowered:
            trial[row.pk] = 0
        return sole_leader(scores_at(people, rows, trial))

    assert apply(flip.level) == flip.challenger.pk
    if flip.raised:
        # Every raised factor really changes, and one weight less would not do.
        assert all(weights[row.pk] < flip.level for row in flip.raised)
        assert apply(flip.level - 1) != flip.challenger.pk


@settings(max_examples=200, deadline=None)
@given(comparisons())
def test_weighted_scores_add_up_the_weights_of_the_factors_won(comparison):
    people, rows, weights = comparison
    result = weigh(people, rows, weights)
    for standing in result.standings:
        won = [row for row in rows if row.winner_id == standing.participant.pk]
        assert standing.score == sum(weights[row.pk] for row in won)
        assert standing.wins == len(won)
    assert result.ties == [row for row in rows if row.is_tie]


# The seed page's factors and winners (tests/data/pytorch-vs-tensorflow.txt).
PYTORCH, TENSORFLOW = participant(1, "PyTorch"), participant(2, "TensorFlow")
SEED_FACTORS = [
    factor(1, "Developer Experience", PYTORCH.pk),
    factor(2, "Research Adoption", PYTORCH.pk),
    factor(3, "Production Deployment", TENSORFLOW.pk),
    factor(4, "Edge Mobile", TENSORFLOW.pk),
    factor(5, "Community Ecosystem", PYTORCH.pk),
]


class TestSeedPage:
    def test_default_weights(self):
        result = weigh([PYTORCH, TENSORFLOW], SEED_FACTORS)
        assert result.summary() == "PyTorch leads 3 to 2."
        # One change is enough: 4 to 3.
        assert result.flip_note() == (
            "TensorFlow would lead if Production Deployment counted for more: mark it as critical."
        )
        assert result.close_call  # one factor's margin

    def test_production_and_mobile_critical_hand_tensorflow_the_lead(self):
        weights = {f.pk: DEFAULT_WEIGHT for f in SEED_FACTORS} | {3: 3, 4: 3}
        result = weigh([PYTORCH, TENSORFLOW], SEED_FACTORS, weights)
        assert result.summary() == "With your weights, TensorFlow leads 6 to 3."
        # Two changes (7 to 6), the smallest change in weight among them.
        assert result.flip_note() == (
            "PyTorch would lead if Developer Experience and Research Adoption together "
            "counted for more: mark both as critical."
        )
        assert not result.close_call

    def test_nothing_changes_a_leader_who_won_everything(self):
        rows = [factor(1, "Speed", PYTORCH.pk), factor(2, "Docs", tie=True)]
        result = weigh([PYTORCH, TENSORFLOW], rows)
        assert result.flip is None
        assert result.flip_note() == "PyTorch leads however you weigh these factors."
        assert [row.name for row in result.ties] == ["Docs"]


class TestWeightsInTheAddress:
    rows = [factor(1, "Edge Mobile"), factor(2, "Research Adoption"), factor(3, "Edge mobile")]

    def test_one_spelling_in_page_order_only_what_is_not_normal(self):
        read = read_weights(["research-adoption:ignore,edge-mobile:critical"], self.rows)
        assert read.query == "edge-mobile:critical,research-adoption:ignore"
        assert read.notices == []
        # A form sends one value per factor, normal ones included: the same address.
        form = read_weights(
            ["edge-mobile:critical", "research-adoption:ignore", "edge-mobile-2:normal"], self.rows
        )
        assert form.query == read.query

    def test_names_that_slug_alike_get_their_own_key(self):
        assert list(factor_keys(self.rows).values()) == [
            "edge-mobile",
            "research-adoption",
            "edge-mobile-2",
        ]

    def test_unknown_factors_and_weights_are_ignored_with_a_notice(self):
        read = read_weights(["gpu:critical,edge-mobile:huge,,edge-mobile"], self.rows)
        assert read.is_default and read.query == ""
        assert read.notices == [
            "“gpu:critical” names no factor of this page; it was ignored.",
            "“huge” is not a weight (use ignore, normal, important or critical); "
            "edge-mobile stays normal.",
            "“edge-mobile” names no factor of this page; it was ignored.",
        ]

    @given(st.lists(st.text(max_size=40), max_size=4))
    def test_any_query_reads_without_error_and_its_spelling_reads_back_the_same(self, values):
        read = read_weights(values, self.rows)
        again = read_weights([read.query], self.rows)
        assert again.weights == read.weights and again.query == read.query
        assert weights_query(read.weights, self.rows) == read.query
