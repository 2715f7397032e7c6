"""
Search over the public catalogue: search() is the one function the view calls.

What is searched: published comparisons (title, subtitle, quick verdict, their
frameworks' names and descriptions, factor names and assessments) and the
frameworks that appear in a published comparison (name, description).

On PostgreSQL, full-text search with ranking. Each comparison stores its words
in ``Comparison.search_vector`` (title and framework names weigh most, then
subtitle and verdict, then framework descriptions and factor names, then
assessments), indexed with RUM (migration 0014), which keeps each word's
positions and ranks the matches inside the index: the best MAX_COUNTED keys
come out of it in one read, which counts the results and holds every page.
update_search_vectors() is the one place that writes the vector, in one UPDATE
for any number of comparisons; signals.py calls it when any row of a page is
saved or deleted, generate_bench_data and the rebuild_search_index command call
it in bulk. The reader's words are read with websearch_to_tsquery, which
accepts any text ("quoted phrases", or, -not). Typos are found with pg_trgm: a
word close to a framework's name ("pytroch" for PyTorch) and, when nothing else
matched, a query close to part of a title, both through GIN trigram indexes
(migration 0011 makes them, on PostgreSQL only). The search's transaction tells
the planner to prefer the indexes (see _PostgreSQL.prepare).

On SQLite (``make run``), a plain fallback behind the same interface: every
word must appear (case-insensitively) in one of the same fields, newest first,
titles first; a close framework name (difflib) stands in for trigrams.

On both, words typed apart are also tried joined up ("tensor flow" finds
TensorFlow), and a query is cleaned first: control characters become spaces,
and one longer than MAX_QUERY_LENGTH is refused with a message. Highlighting
(highlight(), excerpt()) is done here in Python on escaped text, the same on
both databases.
"""

import difflib
import functools
import html
import re
import threading
import unicodedata
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramSimilarity,
)
from django.core.paginator import EmptyPage, Paginator
from django.db import connection, connections, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    StringAgg,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils.functional import cached_property
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from .models import Assessment, Comparison, Factor, Framework, Participant
from .templatetags.rich_text import render as render_markdown
from .translation import ShownText, choose_text, column, in_any_language, shown_text

# Longer queries are refused with a message (the header box stops at this length too).
MAX_QUERY_LENGTH = 200
# Comparisons per results page.
PAGE_SIZE = 20
# Results are counted up to this many, and paged that far: beyond it, the reader
# refines the search. Counting every match of a common word cost more than
# ranking the page (28 ms of 93 at 10,000 bench comparisons).
MAX_COUNTED = 1000
# Frameworks shown above the comparisons, and each one's comparisons listed there.
MAX_FRAMEWORKS = 5
FRAMEWORK_COMPARISONS_SHOWN = 3
# Words of a query used for highlighting, typo matching and the SQLite fallback;
# further words still count on PostgreSQL's full-text search.
MAX_TERMS = 8
# Typo matching: words shorter than this are not compared with framework names.
MIN_FUZZY_LENGTH = 3
# How close a typed word must be to a framework's name (difflib's ratio, 0 to 1) for
# the SQLite fallback to find it, and for its name to be highlighted on both.
NAME_CLOSENESS = 0.75
# PostgreSQL's text search configuration: English stemming and stop words.
SEARCH_CONFIG = "english"
# Comparisons whose vectors one UPDATE recomputes (update_search_vectors).
UPDATE_BATCH = 200
# Plain texts of Markdown kept in each process (plain_text): a few hundred bytes each.
PLAIN_TEXTS_KEPT = 4096
# Compiled highlighting patterns kept in each process (_term_pattern), one per set of terms.
TERM_PATTERNS_KEPT = 256
# How many characters of a long text a result shows around the first match.
EXCERPT_LENGTH = 180

# Control characters (NUL included), format characters, surrogates, unassigned:
# none can be typed into a search box, and PostgreSQL refuses NUL outright.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_WORD = re.compile(r"\w+")
# A word the reader excluded (websearch's -word), not one to highlight.
_EXCLUDED = re.compile(r'(?:^|\s)-(?:"[^"]*"|\S+)')
# websearch_to_tsquery's "or" is an operator, not a word to look for.
_OPERATORS = {"or"}
_SUFFIXES = ("ing", "ed", "es", "s")


class QueryTooLong(ValueError):
    """The reader's query is longer than MAX_QUERY_LENGTH; the message says so."""

    def __init__(self):
        super().__init__(
            f"Searches can be at most {MAX_QUERY_LENGTH} characters long. "
            "Try a few words, such as a framework's name."
        )


@dataclass(frozen=True)
class Query:
    """A reader's query once cleaned: the text searched and the words behind it."""

    text: str
    # Lower-case words to highlight and to match in the fallback, at most MAX_TERMS.
    words: tuple
    # The words joined up, when there are several: "tensorflow" for "tensor flow".
    joined: str
    # Words after a minus (-rollup): comparisons holding them are left out.
    excluded: tuple = ()
    # Quotes or a minus: the reader is being exact, so no typo matching and no
    # joining of words ("vite -rollup" must not find "Vite vs Rollup" by likeness).
    literal: bool = False

    @property
    def terms(self):
        """Word beginnings to look for in text: stems of the words ("framework" for
        "frameworks"), so that highlighting follows PostgreSQL's stemming roughly."""
        return tuple(dict.fromkeys(stem(word) for word in self.words))


def stem(word):
    """A crude English stem: enough to highlight "learning" for "learned"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def parse_query(raw):
    """The cleaned Query for the text a reader typed, None when nothing is left.

    Raises QueryTooLong when the text is longer than MAX_QUERY_LENGTH.
    """
    raw = raw or ""
    if len(raw.strip()) > MAX_QUERY_LENGTH:
        raise QueryTooLong
    text = "".join(" " if unicodedata.category(c) in _UNPRINTABLE else c for c in raw)
    text = " ".join(text.split())
    if not text:
        return None
    included = _EXCLUDED.sub(" ", text)
    words = [word for word in _WORD.findall(included.lower()) if word not in _OPERATORS]
    words = tuple(dict.fromkeys(words))[:MAX_TERMS]
    lowered = text.lower()
    excluded = [
        word for found in _EXCLUDED.finditer(lowered) for word in _WORD.findall(found.group())
    ]
    excluded = tuple(dict.fromkeys(excluded))[:MAX_TERMS]
    literal = '"' in text or bool(excluded)
    joined = "".join(words) if len(words) > 1 and not literal else ""
    return Query(text=text, words=words, joined=joined, excluded=excluded, literal=literal)


@dataclass(frozen=True)
class FrameworkHit:
    """A framework matching the query, with a few of its published comparisons."""

    framework: object
    comparison_count: int
    comparisons: list

    @property
    def more(self):
        """How many of its published comparisons are not listed."""
        return self.comparison_count - len(self.comparisons)


@dataclass(frozen=True)
class ComparisonHit:
    """A matching comparison and, when a factor matched, that factor's text."""

    comparison: object
    # The names of the comparison's frameworks, in its order ("PyTorch", "JAX").
    framework_names: tuple = ()
    factor_name: str = ""
    framework_name: str = ""
    assessment: str = ""
    # The two texts as shown (ShownText): in the page's language, or in English marked so.
    shown_factor_name: "ShownText | None" = None
    shown_assessment: "ShownText | None" = None


@dataclass
class SearchResults:
    """What the results page shows. ``page`` is None when there was no query."""

    query: "Query | None"
    page: object = None
    hits: list = field(default_factory=list)
    frameworks: list = field(default_factory=list)
    # What to highlight: the query's terms and the framework names it found by typo.
    terms: tuple = ()

    @property
    def count(self):
        return self.page.paginator.count if self.page is not None else 0

    @property
    def count_is_capped(self):
        return self.count >= MAX_COUNTED


class CappedPaginator(Paginator):
    """A paginator that counts at most MAX_COUNTED results, without ranking them."""

    @cached_property
    def count(self):
        return self.object_list.order_by().values("pk")[:MAX_COUNTED].count()


def search(raw, *, page=1):
    """Search published comparisons and their frameworks for the text ``raw``.

    Raises QueryTooLong for a query over MAX_QUERY_LENGTH characters and
    django.core.paginator.InvalidPage for a page past the last. A fixed number
    of queries, whatever the catalogue's size.
    """
    query = parse_query(raw)
    if query is None:
        if page != 1:
            raise EmptyPage("There are no results to page through.")
        return SearchResults(query=None)
    if not query.words:
        backend = _NoWords(query)
    elif connection.vendor == "postgresql":
        backend = _PostgreSQL(query)
    else:
        backend = _Fallback(query)
    with transaction.atomic():
        backend.prepare()
        framework_hits = _with_comparisons(list(backend.frameworks()[:MAX_FRAMEWORKS]))
        meant = _typo_names(query, framework_hits)
        paginator = backend.paginator(meant)
        if paginator.count == 0 and backend.has_looser_match:
            # Nothing matched the words or a framework's name: try titles that look alike.
            paginator = backend.paginator(meant, looser=True)
        result_page = paginator.page(page)
        keys = list(result_page.object_list)
        result_page.object_list = _page_of(keys)
        terms = tuple(dict.fromkeys([*query.terms, *meant]))[:MAX_TERMS]
        hits = _with_factor_matches(result_page.object_list, terms, _framework_names(keys))
    return SearchResults(
        query=query, page=result_page, hits=hits, frameworks=framework_hits, terms=terms
    )


def _keys(comparisons):
    """The matches' keys, best first. Ranking reads every match, so it reads no more
    of each than it ranks on; the page's few comparisons are read whole after
    (_page_of). At 10,000 bench comparisons, ranking whole rows cost 20 ms against 12."""
    return comparisons.values_list("pk", flat=True)


def _read_keys(keys):
    """The list of ``keys`` (a flat values_list), read by a cursor of its own SQL: the
    ORM hands each of up to MAX_COUNTED rows through django-modeltranslation's
    iterators, which cost 1.7 ms of CPU a search at 10,000 bench comparisons
    for keys that no translation touches."""
    sql, params = keys.query.sql_with_params()
    with connections[keys.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _page_of(keys):
    """The comparisons of ``keys``, in that order."""
    # Only what a result shows: the vector and the long texts (recommendation,
    # choose-when lists) stay in the database; building the rows whole was a fifth
    # of the search's CPU.
    comparisons = Comparison.objects.filter(pk__in=keys).only(*RESULT_FIELDS).in_bulk()
    return [comparisons[key] for key in keys if key in comparisons]


# The comparison fields a result shows (search.html, _with_factor_matches), in
# every language: shown_text() reads each language's column.
RESULT_FIELDS = (
    "slug",
    "translations_published",
    *(
        column(name, code)
        for name in ("title", "subtitle", "quick_verdict", "category")
        for code, _ in settings.LANGUAGES
    ),
)


def _framework_names(keys):
    """The names of the frameworks of the comparisons of ``keys``, in each one's order,
    by comparison: all a result shows of them. Read as values, not rows with their
    frameworks: building those ~120 objects cost 5 ms of CPU a page."""
    names = {}
    rows = Participant.objects.filter(comparison__in=keys).values_list(
        "comparison", "framework__name"
    )
    for comparison_id, name in rows:
        names.setdefault(comparison_id, []).append(name)
    return names


def _typo_names(query, framework_hits):
    """Words of the frameworks found that the reader meant but misspelt ("pytorch" for
    "pytroch"), so that the results highlight them too."""
    typed = [word for word in (*query.words, query.joined) if len(word) >= MIN_FUZZY_LENGTH]
    return [
        word
        for hit in framework_hits
        for word in _WORD.findall(hit.framework.name.lower())
        if word not in query.words and difflib.get_close_matches(word, typed, cutoff=NAME_CLOSENESS)
    ]


def _published_comparisons():
    return Comparison.objects.published()


def _published_comparisons_of_framework():
    """The published comparisons of the framework of the outer query (OuterRef "pk"):
    correlated, so that only the frameworks matched are looked up, by index."""
    return _published_comparisons().filter(participants__framework=OuterRef("pk")).order_by()


def _in_published_comparison():
    """Frameworks that appear in a published comparison: the only ones search shows."""
    return Exists(_published_comparisons_of_framework())


def _with_comparisons(frameworks):
    """Each framework with its count of published comparisons and the newest few
    of them, in one query whatever the number of frameworks."""
    if not frameworks:
        return []
    shown = (
        _published_comparisons()
        .filter(participants__framework__in=frameworks)
        .only("slug", "title", "translations_published")
        .annotate(
            framework_id=F("participants__framework"),
            number=Window(
                RowNumber(),
                partition_by=F("participants__framework"),
                order_by=[F("published_at").desc(), F("pk")],
            ),
        )
        .filter(number__lte=FRAMEWORK_COMPARISONS_SHOWN)
        .order_by("framework_id", "number")
    )
    by_framework = {}
    for comparison in shown:
        by_framework.setdefault(comparison.framework_id, []).append(comparison)
    return [
        FrameworkHit(
            framework=framework,
            comparison_count=framework.published_comparisons,
            comparisons=by_framework.get(framework.pk, []),
        )
        for framework in frameworks
    ]


def _published_count():
    """How many published comparisons the outer framework is in."""
    return Coalesce(
        Subquery(
            _published_comparisons_of_framework()
            .values("participants__framework")
            .annotate(number=Count("pk"))
            .values("number")
        ),
        0,
    )


def _with_factor_matches(comparisons, terms, framework_names):
    """ComparisonHits for a page of comparisons, with their ``framework_names`` (by
    comparison). A comparison whose title, subtitle or
    verdict shows no term gets the first factor whose name or an assessment contains
    one, so that the reader sees why it matched; all are found in one query."""
    pattern = _term_pattern(terms)
    unexplained = [
        comparison
        for comparison in comparisons
        if pattern is not None
        and not pattern.search(
            " ".join(
                shown_text(comparison, field).text
                for field in ("title", "subtitle", "quick_verdict")
            )
        )
    ]
    if not unexplained:
        return [
            ComparisonHit(comparison, tuple(framework_names.get(comparison.pk, ())))
            for comparison in comparisons
        ]
    languages = [code for code, _ in settings.LANGUAGES]
    contains = Q()
    for term in terms:
        contains |= in_any_language("text__icontains", term)
        for code in languages:
            contains |= Q(**{f"factor__{column('name', code)}__icontains": term})
    matches = (
        Assessment.objects.filter(factor__comparison__in=unexplained)
        .filter(contains)
        .annotate(
            number=Window(
                RowNumber(),
                partition_by=F("factor__comparison_id"),
                order_by=[F("factor__position"), F("factor_id"), F("participant__position")],
            )
        )
        .filter(number=1)
        .values_list(
            "factor__comparison_id",
            "participant__framework__name",
            *(f"factor__{column('name', code)}" for code in languages),
            *(column("text", code) for code in languages),
        )
    )
    found = {row[0]: row[1:] for row in matches}
    hits = []
    for comparison in comparisons:
        frameworks = tuple(framework_names.get(comparison.pk, ()))
        if comparison.pk not in found:
            hits.append(ComparisonHit(comparison, frameworks))
            continue
        framework_name, *texts = found[comparison.pk]
        names = dict(zip(languages, texts[: len(languages)], strict=True))
        assessments = dict(zip(languages, texts[len(languages) :], strict=True))
        name, assessment = choose_text(names, comparison), choose_text(assessments, comparison)
        hits.append(
            ComparisonHit(
                comparison,
                frameworks,
                factor_name=name.text,
                framework_name=framework_name,
                assessment=assessment.text,
                shown_factor_name=name,
                shown_assessment=assessment,
            )
        )
    return hits


class SearchDistance(Func):
    """``vector <=> query``, the RUM extension's distance between a stored vector and
    a query: 0 for the best match, growing as the match weakens (the inverse of
    ts_rank, weights included), Infinity for no match. Ordered by, it reads the
    best rows first off the RUM index."""

    arg_joiner = " <=> "
    template = "(%(expressions)s)"
    output_field = FloatField()


class _NoWords:
    """A query of only punctuation or symbols: nothing to look for, on either database."""

    # Whether comparisons(looser=True) can find more than comparisons() did.
    has_looser_match = False

    def __init__(self, query):
        self.query = query

    def prepare(self):
        """Set up the transaction the search's queries run in."""

    def frameworks(self):
        return Framework.objects.none()

    def comparisons(self, meant=(), looser=False):
        """Matching published comparisons, best first; ``meant`` are the names the
        reader's typos stand for ("pytorch" for "pytroch"), which rank like words typed.
        ``looser``: also titles that look like the query, when nothing else matched."""
        return Comparison.objects.none()

    def paginator(self, meant=(), looser=False):
        """The pages of comparisons(): counted apart, at most MAX_COUNTED."""
        return CappedPaginator(_keys(self.comparisons(meant, looser)), PAGE_SIZE)


class _PostgreSQL(_NoWords):
    """Full-text search on the stored vectors, with trigram similarity for typos."""

    def __init__(self, query):
        super().__init__(query)
        self.has_looser_match = not query.literal
        self.text_query = SearchQuery(query.text, search_type="websearch", config=SEARCH_CONFIG)
        if query.joined:
            self.text_query |= SearchQuery(query.joined, search_type="plain", config=SEARCH_CONFIG)
        # Framework names close to one of the words, or to all of them joined:
        # ``name % word`` uses the trigram index (pg_trgm's default threshold, 0.3).
        self.close_words = [
            word
            for word in ([] if query.literal else [*query.words, query.joined])
            if len(word) >= MIN_FUZZY_LENGTH
        ]

    def prepare(self):
        # PostgreSQL prices checking a stored vector row by row as if it were free,
        # so for a common word (most rows match) it reads every comparison's whole
        # vector instead of the GIN index: three times slower at 10,000 bench
        # comparisons (34 ms against 11). This search's transaction alone is told
        # to prefer the indexes; a scan still happens where no index serves.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")

    def close_frameworks(self):
        """Frameworks whose name is close to a word typed (by the trigram index).

        One UNION ALL part a word: given the words OR-ed together, the planner went
        through every framework by its primary key instead (13 ms at 2,000).
        """
        parts = [
            Framework.objects.filter(name__trigram_similar=word).values("pk")
            for word in self.close_words
        ]
        return Framework.objects.filter(pk__in=parts[0].union(*parts[1:], all=True))

    @cached_property
    def close_framework_keys(self):
        """close_frameworks(), read once: inside a larger query the planner went through
        every framework instead of the trigram index (9 ms at 2,000 frameworks)."""
        if not self.close_words:
            return []
        return list(self.close_frameworks().values_list("pk", flat=True)[:100])

    def framework_matches(self):
        """Frameworks whose words match, or whose name is close to a word typed."""
        words = framework_words()
        matches = Q(pk__in=Framework.objects.alias(words=words).filter(words=self.text_query))
        if self.close_framework_keys:
            # Read once for both this and comparisons().
            matches |= Q(pk__in=self.close_framework_keys)
        return Framework.objects.filter(matches)

    def frameworks(self):
        # The expression of the framework_words index (migration 0013), or it goes unused.
        words = framework_words()
        # The few frameworks matched are fetched first: given them as a list, the
        # planner checks each one's published comparisons by index, where as a
        # subquery it joined every participant of every published comparison
        # (24 ms of a 56 ms search at 10,000 bench comparisons).
        matched = list(self.framework_matches().values_list("pk", flat=True)[:100])
        if not matched:
            # Building the ranked query below costs 3 ms of CPU even when it is not run.
            return Framework.objects.none()
        return (
            Framework.objects.filter(pk__in=matched)
            .filter(_in_published_comparison())
            .annotate(
                rank=SearchRank(words, self.text_query)
                + TrigramSimilarity("name", self.query.text),
                published_comparisons=_published_count(),
            )
            .order_by("-rank", "name")
        )

    def word_matches(self):
        """Comparisons holding the words, through the RUM index of their vector."""
        return Q(search_vector=self.text_query)

    def is_union(self, looser):
        """Whether comparisons() matches in other ways than the words: then it sorts
        every match, rather than reading the best first off the RUM index."""
        return looser or bool(self.close_framework_keys)

    def paginator(self, meant=(), looser=False):
        # Ranking reads every match whatever the page (the RUM index ranks them all
        # before it hands over the best, 11 ms for a word in all 10,000 bench
        # comparisons, whether for 20 keys or 1,000), and a count apart would read
        # them all again (4 ms more): the first MAX_COUNTED keys are read once, and
        # counted and paged in Python.
        keys = _read_keys(_keys(self.comparisons(meant, looser))[:MAX_COUNTED])
        return Paginator(keys, PAGE_SIZE)

    def comparisons(self, meant=(), looser=False):
        # Other ways of matching than the words are each a part of one UNION, so
        # that each uses its index, rather than OR-ed into a filter over every
        # published comparison.
        parts = []
        if looser:
            # Only when nothing else matched: comparing every title of a common
            # word's thousands of matches would cost more than the whole search.
            close_titles = Comparison.objects.filter(
                in_any_language("title__trigram_word_similar", self.query.text)
            )
            parts.append(close_titles.values("pk"))
        if self.close_framework_keys:
            parts.append(
                Participant.objects.filter(framework__in=self.close_framework_keys).values(
                    "comparison"
                )
            )
        # Ranked by the words typed or the names they misspelt.
        rank_query = self.text_query
        for name in meant:
            rank_query |= SearchQuery(name, search_type="plain", config=SEARCH_CONFIG)
        distance = SearchDistance(F("search_vector"), rank_query)
        if not self.is_union(looser):
            # Words alone, the common case: the RUM index ranks the matches itself
            # and hands them over best first, rather than each match's vector
            # being read from the table and ranked (3 ms against 18 for 20 rows of
            # a word in all 10,000 bench comparisons, on an earlier machine).
            # That ordering scan takes no second key: equals come in the index's order.
            return (
                _published_comparisons()
                .filter(self.word_matches())
                .alias(distance=distance)
                .order_by("distance")
            )
        words = Comparison.objects.filter(self.word_matches()).values("pk")
        # UNION ALL: an IN list may repeat a key, and sorting out repeats is not free.
        matches = Q(pk__in=words.union(*parts, all=True))
        return (
            _published_comparisons()
            .filter(matches)
            .alias(distance=distance)
            .order_by("distance", "-published_at", "pk")
        )


class _Fallback(_NoWords):
    """SQLite: every word somewhere in the page, case-insensitively; titles first."""

    def __init__(self, query):
        super().__init__(query)
        self._close = None

    @property
    def close_frameworks(self):
        """Frameworks whose name is close to a word (difflib), for typos. Reads every
        published framework's name, once: fine for the small databases SQLite serves."""
        if self._close is None:
            names = Framework.objects.filter(_in_published_comparison())
            lowered = {name.lower(): pk for name, pk in names.values_list("name", "pk")}
            self._close = set()
            for word in [] if self.query.literal else [*self.query.words, self.query.joined]:
                if len(word) >= MIN_FUZZY_LENGTH:
                    for name in difflib.get_close_matches(
                        word, lowered, n=MAX_FRAMEWORKS, cutoff=NAME_CLOSENESS
                    ):
                        self._close.add(lowered[name])
        return self._close

    def frameworks(self):
        condition = Q()
        for word in self.query.words:
            condition &= Q(name__icontains=word) | Q(description__icontains=word)
        if self.query.joined:
            condition |= Q(name__icontains=self.query.joined)
        if self.close_frameworks:
            condition |= Q(pk__in=self.close_frameworks)
        return (
            Framework.objects.filter(condition)
            .filter(_in_published_comparison())
            .annotate(published_comparisons=_published_count())
            .order_by("name")
        )

    @staticmethod
    def word_matches(word):
        """In any language's text: a German reader finds a page by its German words."""
        frameworks = Framework.objects.filter(
            Q(name__icontains=word) | in_any_language("description__icontains", word)
        )
        return (
            in_any_language("title__icontains", word)
            | in_any_language("subtitle__icontains", word)
            | in_any_language("quick_verdict__icontains", word)
            | Q(pk__in=Participant.objects.filter(framework__in=frameworks).values("comparison"))
            | Q(
                pk__in=Factor.objects.filter(in_any_language("name__icontains", word)).values(
                    "comparison"
                )
            )
            | Q(
                pk__in=Assessment.objects.filter(in_any_language("text__icontains", word)).values(
                    "factor__comparison"
                )
            )
        )

    def comparisons(self, meant=(), looser=False):
        condition = Q()
        for word in self.query.words:
            condition &= self.word_matches(word)
        if self.query.joined:
            condition |= self.word_matches(self.query.joined)
        if self.close_frameworks:
            condition |= Q(
                pk__in=Participant.objects.filter(framework__in=self.close_frameworks).values(
                    "comparison"
                )
            )
        in_title = Q()
        for word in [*self.query.words, self.query.joined, *meant]:
            if word:
                in_title |= Q(title__icontains=word)
        for word in self.query.excluded:
            condition &= ~self.word_matches(word)
        return (
            _published_comparisons()
            .filter(condition)
            .annotate(rank=Case(When(in_title, then=Value(1)), default=Value(0)))
            .order_by("-rank", "-published_at", "pk")
        )


def search_vector_expression(apps=django_apps):
    """A comparison's vector, as an SQL expression over its own rows: the title and
    framework names (weight A), subtitle and verdict (B), framework descriptions
    and factor names (C), and the assessments (D). ``apps`` lets a migration pass
    its historical registry.
    """
    Participant = apps.get_model("comparisons", "Participant")
    Factor = apps.get_model("comparisons", "Factor")
    Assessment = apps.get_model("comparisons", "Assessment")
    Comparison = apps.get_model("comparisons", "Comparison")
    Framework = apps.get_model("comparisons", "Framework")

    def joined(queryset, group, column):
        return Subquery(
            queryset.order_by()
            .values(group)
            # Not "text": the assessments' own field is called so (and translated).
            .annotate(joined_text=StringAgg(column, delimiter=Value(" ")))
            .values("joined_text")
        )

    participants = Participant.objects.filter(comparison=OuterRef("pk"))
    factors = Factor.objects.filter(comparison=OuterRef("pk"))
    assessments = Assessment.objects.filter(factor__comparison=OuterRef("pk"))
    config = SEARCH_CONFIG
    return (
        SearchVector(*languages(Comparison, "title"), config=config, weight="A")
        + SearchVector(
            joined(participants, "comparison", "framework__name"), config=config, weight="A"
        )
        + SearchVector(
            *languages(Comparison, "subtitle"),
            *languages(Comparison, "quick_verdict"),
            config=config,
            weight="B",
        )
        + SearchVector(
            *(
                joined(participants, "comparison", f"framework__{name}")
                for name in languages(Framework, "description")
            ),
            *(joined(factors, "comparison", name) for name in languages(Factor, "name")),
            config=config,
            weight="C",
        )
        + SearchVector(
            *(
                joined(assessments, "factor__comparison", name)
                for name in languages(Assessment, "text")
            ),
            config=config,
            weight="D",
        )
    )


def languages(model, field):
    """The columns holding ``field`` in each language (comparisons/translation.py), or
    the field alone in a migration's model from before translations."""
    names = {f.name for f in model._meta.fields}
    columns = [column(field, code) for code, _ in settings.LANGUAGES]
    return [name for name in columns if name in names] or [field]


def framework_words(model=Framework):
    """A framework's words in every language: the expression of the framework_words
    index (migration 0013), which search must repeat exactly for the index to serve."""
    return SearchVector("name", *languages(model, "description"), config=SEARCH_CONFIG)


def update_search_vectors(comparisons, apps=django_apps):
    """Recompute the stored vector of ``comparisons`` (a queryset): one UPDATE per
    UPDATE_BATCH comparisons, so that each statement stays well inside the
    statement timeout however large the catalogue (a save's changes are one).

    Only on PostgreSQL; the fallback reads the rows themselves. Returns the number
    of comparisons updated.
    """
    if connections[comparisons.db].vendor != "postgresql":
        return 0
    vector = search_vector_expression(apps)
    pks = list(comparisons.order_by("pk").values_list("pk", flat=True))
    updated = 0
    for start in range(0, len(pks), UPDATE_BATCH):
        batch = comparisons.model.objects.filter(pk__in=pks[start : start + UPDATE_BATCH])
        updated += batch.update(search_vector=vector)
    return updated


# What changes a comparison's vector: for each model, its fields that feed the
# vector or tie the row to a comparison. A save naming only other fields
# (publishing, the content fingerprint, a review) leaves the vector alone.
VECTOR_FIELDS = {
    "Comparison": {
        "title",
        "subtitle",
        "quick_verdict",
        *languages(Comparison, "title"),
        *languages(Comparison, "subtitle"),
        *languages(Comparison, "quick_verdict"),
    },
    "Framework": {"name", "description", *languages(Framework, "description")},
    "Participant": {"comparison", "framework"},
    "Factor": {"comparison", "name", *languages(Factor, "name")},
    "Assessment": {"factor", "participant", "text", *languages(Assessment, "text")},
}
# The rows changed in this thread's transaction, by what they point at; see
# content_changed.
_pending = threading.local()


def content_changed(instance, update_fields=None):
    """Note that ``instance`` (a comparison or one of its rows) was saved or deleted,
    and recompute the vectors it feeds once the transaction commits.

    Called by signals.py for every save and delete: the vector is a derived copy
    of the rows, kept current like a cache. However many rows one admin save
    touches, their comparisons are updated together, in one UPDATE, right after
    the commit (at once outside a transaction), so the next request finds them.
    A rolled-back transaction leaves its notes to the next flush, which then
    recomputes a few vectors for nothing.
    """
    name = type(instance).__name__
    if name not in VECTOR_FIELDS:
        return
    if update_fields is not None and not VECTOR_FIELDS[name] & set(update_fields):
        return
    if name == "Comparison":
        key, value = "comparisons", instance.pk
    elif name == "Framework":
        key, value = "frameworks", instance.pk
    elif name == "Assessment":
        key, value = "factors", instance.factor_id
    else:
        key, value = "comparisons", instance.comparison_id
    pending = getattr(_pending, "rows", None)
    if pending is None:
        pending = _pending.rows = {"comparisons": set(), "factors": set(), "frameworks": set()}
    pending[key].add(value)
    transaction.on_commit(_update_pending)


def _update_pending():
    pending = getattr(_pending, "rows", None)
    _pending.rows = None
    if not pending or not any(pending.values()):
        return
    changed = (
        Q(pk__in=pending["comparisons"])
        | Q(pk__in=Factor.objects.filter(pk__in=pending["factors"]).values("comparison"))
        | Q(
            pk__in=Participant.objects.filter(framework__in=pending["frameworks"]).values(
                "comparison"
            )
        )
    )
    update_search_vectors(Comparison.objects.filter(changed))


# Rendering Markdown cost 0.4 ms a result (8 of a results page's 18 ms), and
# the same verdicts come back search after search; a text's plain form never changes.
@functools.lru_cache(maxsize=PLAIN_TEXTS_KEPT)
def plain_text(markdown):
    """Editor Markdown as the plain text a reader sees: rendered, then tags removed."""
    return html.unescape(strip_tags(render_markdown(markdown))).strip()


def _term_pattern(terms):
    """The regex of words beginning with one of ``terms``, one group around each
    match, or None when there are none: built once per set of terms (a results page
    asks for it some sixty times)."""
    return _pattern_of_terms(frozenset(term for term in terms if term))


@functools.lru_cache(maxsize=TERM_PATTERNS_KEPT)
def _pattern_of_terms(terms):
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
    return re.compile(r"(\b(?:" + alternatives + r")\w*)", re.I)


def excerpt(text, terms, length=EXCERPT_LENGTH):
    """At most ``length`` characters of ``text`` around the first word matching a term."""
    text = " ".join(str(text).split())
    if len(text) <= length:
        return text
    pattern = _term_pattern(terms)
    found = pattern.search(text) if pattern else None
    start = max(0, (found.start() if found else 0) - length // 3)
    end = min(len(text), start + length)
    start = max(0, end - length)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def highlight(text, terms):
    """``text`` escaped, each word beginning with one of ``terms`` in <mark>."""
    text = str(text)
    pattern = _term_pattern(terms)
    if pattern is None:
        return escape(text)
    # Split on the pattern's one group: the text between matches, then the matches.
    parts = pattern.split(text)
    parts[1::2] = [f"<mark>{html.escape(found)}</mark>" for found in parts[1::2]]
    parts[::2] = [html.escape(between) for between in parts[::2]]
    return mark_safe("".join(parts))  # noqa: S308 - every part was escaped just above.
