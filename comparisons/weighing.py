"""
A reader's own weights: the weighted score, and what it would take to change the leader.

Each factor carries a weight the reader chooses (WEIGHTS): ignore, normal (the
default), important or critical, worth 0, 1, 2 and 3. A framework's weighted
score is the sum of the weights of the factors it wins; a tie or an undecided
factor counts for nobody.

The flip: the fewest weight changes that would give the page a different sole
leader, computed exactly. A change sets one factor's weight. Raising a factor
the challenger wins helps it against every rival, lowering a factor a rival
wins helps only against that rival, and any other change cannot help; so the
best changes are always "mark as critical" or "mark as ignore", and for a
challenger the fewest of them is found by trying each number of raises (the
largest gains first) and, for each rival, lowering its heaviest factors until
it falls behind. The raised factors are then given the lowest weight that
still does it. tests/comparisons/test_weighing.py checks this against a search
of every weighting of small comparisons.

The weights travel in the URL as ``?w=edge-mobile:critical,research-adoption:ignore``:
factor keys (slugs of the factor names) in page order, only the weights that
are not normal. :func:`read_weights` turns any query into that one spelling,
so that every view of the same weights has one address (and one cache entry).
"""

from dataclasses import dataclass, field

from django.utils.text import slugify
from django.utils.translation import gettext, pgettext_lazy

WEIGHTS = {"ignore": 0, "normal": 1, "important": 2, "critical": 3}
WEIGHT_NAMES = {value: name for name, value in WEIGHTS.items()}
# What readers read (the names above stay the address's spelling in every language).
WEIGHT_LABELS = {
    0: pgettext_lazy("weight", "ignore"),
    1: pgettext_lazy("weight", "normal"),
    2: pgettext_lazy("weight", "important"),
    3: pgettext_lazy("weight", "critical"),
}
DEFAULT_WEIGHT = WEIGHTS["normal"]
TOP_WEIGHT = max(WEIGHTS.values())
QUERY_PARAMETER = "w"
PAIR_SEPARATOR = ","
KEY_SEPARATOR = ":"


def factor_keys(factors):
    """A short, readable key per factor (pk -> key): the slug of its name, made
    unique within the page by a number where two names slug alike. From the English
    name (name_en), so that a shared link weighs the same factors in every language."""
    keys = {}
    taken = set()
    for factor in factors:
        base = slugify(getattr(factor, "name_en", None) or factor.name) or "factor"
        key, number = base, 2
        while key in taken:
            key, number = f"{base}-{number}", number + 1
        taken.add(key)
        keys[factor.pk] = key
    return keys


@dataclass(frozen=True)
class ReadWeights:
    """Weights read from a query: per factor pk, the canonical query value, and
    a notice for each part that was ignored."""

    weights: dict
    query: str
    notices: list = field(default_factory=list)

    @property
    def is_default(self):
        return not self.query


def read_weights(values, factors):
    """Weights from the query's ``w`` values (a list: a form sends one per factor).

    Unknown factors and unknown weights are ignored, each with a notice, and
    never an error.
    """
    factors = list(factors)
    keys = factor_keys(factors)
    pk_of = {key: pk for pk, key in keys.items()}
    weights = {factor.pk: DEFAULT_WEIGHT for factor in factors}
    notices = []
    for value in values:
        for pair in value.split(PAIR_SEPARATOR):
            pair = pair.strip()
            if not pair:
                continue
            key, separator, name = pair.partition(KEY_SEPARATOR)
            if not separator or key not in pk_of:
                notices.append(
                    gettext("“%(pair)s” names no factor of this page; it was ignored.")
                    % {"pair": pair[:60]}
                )
            elif name not in WEIGHTS:
                notices.append(
                    gettext(
                        "“%(name)s” is not a weight (use ignore, normal, important or "
                        "critical); %(key)s stays normal."
                    )
                    % {"name": name[:30], "key": key}
                )
            else:
                weights[pk_of[key]] = WEIGHTS[name]
    return ReadWeights(weights, weights_query(weights, factors, keys), notices)


def weights_query(weights, factors, keys=None):
    """The one spelling of ``weights`` in a URL: non-normal weights in page order."""
    keys = keys or factor_keys(factors)
    return PAIR_SEPARATOR.join(
        f"{keys[factor.pk]}{KEY_SEPARATOR}{WEIGHT_NAMES[weights[factor.pk]]}"
        for factor in factors
        if weights.get(factor.pk, DEFAULT_WEIGHT) != DEFAULT_WEIGHT
    )


@dataclass(frozen=True)
class Standing:
    participant: object
    score: int
    wins: int

    @property
    def name(self):
        return self.participant.framework.name


@dataclass(frozen=True)
class Flip:
    """The fewest weight changes that give ``challenger`` the sole lead."""

    challenger: object
    raised: list  # factors to mark as ``level``
    level: int
    lowered: list  # factors to mark as ignore

    @property
    def changes(self):
        return len(self.raised) + len(self.lowered)

    def sentence(self):
        name = self.challenger.framework.name
        raised = names(self.raised)
        lowered = names(self.lowered)
        level = WEIGHT_LABELS[self.level]
        if self.raised and not self.lowered:
            if len(self.raised) == 1:
                text = gettext(
                    "%(name)s would lead if %(raised)s counted for more: mark it as %(level)s."
                )
            elif len(self.raised) == 2:
                text = gettext(
                    "%(name)s would lead if %(raised)s together counted for more: mark both as "
                    "%(level)s."
                )
            else:
                text = gettext(
                    "%(name)s would lead if %(raised)s together counted for more: mark all "
                    "%(count)s as %(level)s."
                )
            return text % {
                "name": name,
                "raised": raised,
                "level": level,
                "count": len(self.raised),
            }
        if self.lowered and not self.raised:
            if len(self.lowered) == 1:
                text = gettext(
                    "%(name)s would lead if %(lowered)s counted for less: mark it as ignore."
                )
            elif len(self.lowered) == 2:
                text = gettext(
                    "%(name)s would lead if %(lowered)s counted for less: mark both as ignore."
                )
            else:
                text = gettext(
                    "%(name)s would lead if %(lowered)s counted for less: mark all %(count)s as "
                    "ignore."
                )
            return text % {"name": name, "lowered": lowered, "count": len(self.lowered)}
        return gettext(
            "%(name)s would lead if you marked %(raised)s as %(level)s and %(lowered)s as ignore."
        ) % {"name": name, "raised": raised, "level": level, "lowered": lowered}


@dataclass(frozen=True)
class WeightedResult:
    standings: list
    weights: dict
    ties: list
    flip: Flip | None
    is_default: bool

    @property
    def leaders(self):
        top = max(standing.score for standing in self.standings)
        return [standing for standing in self.standings if standing.score == top]

    @property
    def close_call(self):
        """The leader could change with one weight, or there is no sole leader."""
        return len(self.leaders) > 1 or (self.flip is not None and self.flip.changes <= 1)

    def summary(self):
        """The result in words: "With your weights, TensorFlow leads 5 to 4"."""
        leaders = self.leaders
        if len(leaders) > 1:
            text = (
                gettext("%(names)s are level at %(score)s.")
                if self.is_default
                else gettext("With your weights, %(names)s are level at %(score)s.")
            )
            return text % {"names": names(leaders), "score": leaders[0].score}
        ranked = sorted(self.standings, key=lambda standing: -standing.score)
        text = (
            gettext("%(name)s leads %(score)s to %(other)s.")
            if self.is_default
            else gettext("With your weights, %(name)s leads %(score)s to %(other)s.")
        )
        return text % {"name": ranked[0].name, "score": ranked[0].score, "other": ranked[1].score}

    def flip_note(self):
        if self.flip is not None:
            return self.flip.sentence()
        if len(self.leaders) == 1:
            text = gettext("%(names)s leads however you weigh these factors.")
        else:
            text = gettext("%(names)s stay level however you weigh these factors.")
        return text % {"names": names(self.leaders)}


def names(items):
    """'A', 'A and B', 'A, B and C'."""
    words = [getattr(item, "name", str(item)) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return gettext("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


def weigh(participants, factors, weights=None):
    """Each participant's weighted score, the ties and the flip, at ``weights``
    (factor pk -> weight; normal where missing)."""
    participants = list(participants)
    factors = list(factors)
    is_default = weights is None or all(w == DEFAULT_WEIGHT for w in weights.values())
    weights = {factor.pk: (weights or {}).get(factor.pk, DEFAULT_WEIGHT) for factor in factors}
    scores = scores_at(participants, factors, weights)
    wins = factors_won(participants, factors)
    standings = [Standing(p, scores[p.pk], wins[p.pk]) for p in participants]
    return WeightedResult(
        standings=standings,
        weights=weights,
        ties=[factor for factor in factors if factor.is_tie],
        flip=find_flip(participants, factors, weights),
        is_default=is_default,
    )


def scores_at(participants, factors, weights):
    """Each participant's score (pk -> points): the weights of the factors it wins."""
    scores = {participant.pk: 0 for participant in participants}
    for factor in factors:
        if factor.winner_id in scores and not factor.is_tie:
            scores[factor.winner_id] += weights[factor.pk]
    return scores


def factors_won(participants, factors):
    """How many factors each participant wins (pk -> count): the score at weight 1 each."""
    return scores_at(participants, factors, {factor.pk: 1 for factor in factors})


def sole_leader(scores):
    top = max(scores.values())
    leaders = [pk for pk, score in scores.items() if score == top]
    return leaders[0] if len(leaders) == 1 else None


def find_flip(participants, factors, weights):
    """The Flip needing the fewest changes (then the smallest change in weight,
    then the challenger scoring most now, then page order); None if no weighting
    gives the page another sole leader."""
    if len(participants) < 2:
        return None
    scores = scores_at(participants, factors, weights)
    leader = sole_leader(scores)
    best = None
    for order, challenger in enumerate(participants):
        if challenger.pk == leader:
            continue
        plan = fewest_changes(challenger, participants, factors, weights, scores)
        if plan is None:
            continue
        raised, lowered = plan
        delta = change_in_weight(weights, raised, lowered)
        rank = (len(raised) + len(lowered), delta, -scores[challenger.pk], order)
        if best is None or rank < best[0]:
            best = (rank, challenger, raised, lowered)
    if best is None:
        return None
    _, challenger, raised, lowered = best
    level = lowest_level(challenger, participants, factors, weights, raised, lowered)
    return Flip(challenger=challenger, raised=raised, level=level, lowered=lowered)


def fewest_changes(challenger, participants, factors, weights, scores):
    """The fewest (raised, lowered) factors giving ``challenger`` the sole lead, or None."""
    page_order = {factor.pk: index for index, factor in enumerate(factors)}
    raisable = sorted(
        (f for f in factors if f.winner_id == challenger.pk and not f.is_tie),
        key=lambda f: (-(TOP_WEIGHT - weights[f.pk]), page_order[f.pk]),
    )
    raisable = [f for f in raisable if weights[f.pk] < TOP_WEIGHT]
    rivals = [p for p in participants if p.pk != challenger.pk]
    best = None
    for count in range(len(raisable) + 1):
        raised = raisable[:count]
        own = scores[challenger.pk] + sum(TOP_WEIGHT - weights[f.pk] for f in raised)
        lowered = []
        for rival in rivals:
            deficit = scores[rival.pk] - own  # the rival must lose more than this
            if deficit < 0:
                continue
            heaviest = sorted(
                (f for f in factors if f.winner_id == rival.pk and not f.is_tie),
                key=lambda f: (-weights[f.pk], page_order[f.pk]),
            )
            lost = 0
            for factor in heaviest:
                if lost > deficit or weights[factor.pk] == 0:
                    break
                lowered.append(factor)
                lost += weights[factor.pk]
            if lost <= deficit:
                lowered = None
                break
        if lowered is None:
            continue
        # Fewest changes, then the smallest change in weight.
        rank = (count + len(lowered), change_in_weight(weights, raised, lowered))
        if best is None or rank < best[0]:
            best = (rank, raised, sorted(lowered, key=lambda f: page_order[f.pk]))
    if best is None:
        return None
    _, raised, lowered = best
    return sorted(raised, key=lambda f: page_order[f.pk]), lowered


def change_in_weight(weights, raised, lowered):
    return sum(TOP_WEIGHT - weights[f.pk] for f in raised) + sum(weights[f.pk] for f in lowered)


def lowest_level(challenger, participants, factors, weights, raised, lowered):
    """The lowest weight the raised factors need (the lowered ones at ignore)."""
    for level in range(DEFAULT_WEIGHT, TOP_WEIGHT + 1):
        trial = dict(weights)
        for factor in raised:
            trial[factor.pk] = max(trial[factor.pk], level)
        for factor in lowered:
            trial[factor.pk] = 0
        if sole_leader(scores_at(participants, factors, trial)) == challenger.pk:
            return level
    return TOP_WEIGHT
