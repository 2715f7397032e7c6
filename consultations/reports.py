"""
The staff report: how well the promise to reply within CONSULTATION_REPLY_HOURS is kept.

Every figure is computed by the database (counts, per-week aggregates and the
percentiles), so the report costs a fixed handful of queries however many
requests there are. Spam and duplicates never count. A request is *settled*
once it was answered or its deadline passed; a *breach* is a settled request
not answered by respond_by, and its *recovery* the time from respond_by to
the first response that came late (none yet while unanswered). Weeks are ISO
weeks of the arrival time in UTC.
The median is the middle value (the mean of the two middle ones for an even
count); the 90th percentile uses the nearest-rank method (the smallest value
with at least 90% of values at or below it).
"""

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.db import connections
from django.db.models import Aggregate, Count, DurationField, F, Q
from django.db.models.functions import TruncWeek

from .models import ConsultationRequest

# The page lists the latest breaches; the CSV has every one.
BREACHES_SHOWN = 100
BREACH_FIELDS = ["reference", "status", "received_at", "respond_by", "first_response_at"]

# The SVG chart's geometry, in viewBox units; the template draws from CHART.
CHART_WIDTH = 640
CHART_HEIGHT = 200  # the bars stand on this line
CHART_TOP = 20  # room for the value labels above the bars
CHART_BOTTOM = 30  # room for the week labels below the bars
CHART = {
    "width": CHART_WIDTH,
    "height": CHART_HEIGHT + CHART_BOTTOM,
    "baseline": CHART_HEIGHT,
    "week_label_y": CHART_HEIGHT + 22,
}


@dataclass
class Week:
    label: str
    received: int = 0
    settled: int = 0
    on_time: int = 0

    @property
    def share(self):
        """Percentage answered by respond_by of the settled requests, or None."""
        return round(100 * self.on_time / self.settled, 1) if self.settled else None


@dataclass
class Report:
    by_status: list
    weeks: list
    median_hours: float | None
    p90_hours: float | None
    # The latest BREACHES_SHOWN breaches, in arrival order; breach_count counts them all.
    breaches: list
    total: int
    breach_count: int = 0
    # Breaches answered since (late), the median time they took, apologies sent.
    recovered: int = 0
    median_recovery_hours: float | None = None
    apologies: int = 0
    # Every breach, read only by the CSV export.
    all_breaches: object = field(default=None, compare=False)
    bars: list = field(default_factory=list)
    chart: dict = field(default_factory=lambda: CHART)

    def csv_rows(self):
        yield ["Requests by status"]
        yield ["status", "requests"]
        yield from ([label, count] for label, count in self.by_status)
        yield []
        hours = settings.CONSULTATION_REPLY_HOURS
        yield [f"Answered within {hours} hours per ISO week (spam and duplicates excluded)"]
        yield ["week", "received", "settled", f"answered within {hours} h", "share %"]
        for week in self.weeks:
            share = "" if week.share is None else week.share
            yield [week.label, week.received, week.settled, week.on_time, share]
        yield []
        yield ["Time to first response (hours)"]
        yield ["median", _blank(self.median_hours)]
        yield ["90th percentile", _blank(self.p90_hours)]
        yield []
        yield ["Breaches", self.breach_count]
        yield ["recovered (answered late)", self.recovered]
        yield ["median time to recover (hours)", _blank(self.median_recovery_hours)]
        yield ["apologies sent", self.apologies]
        yield [
            "reference",
            "received (UTC)",
            "respond by (UTC)",
            "first response (UTC)",
            "recovered after (hours)",
            "status",
        ]
        for row in self.all_breaches.iterator() if self.all_breaches is not None else []:
            row = breach_row(row)
            yield [
                row["reference"],
                _iso(row["received_at"]),
                _iso(row["respond_by"]),
                _iso(row["first_response_at"]),
                _blank(row["recovery_hours"]),
                row["status"],
            ]


def _blank(value):
    return "" if value is None else value


def _iso(moment):
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def nearest_rank(values, percent):
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


class WithinGroup(Aggregate):
    """PostgreSQL's ordered-set aggregates: ``function(fraction) WITHIN GROUP (ORDER BY x)``."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class PercentileCont(WithinGroup):
    function = "percentile_cont"  # interpolates: the median of an even count is a mean


class PercentileDisc(WithinGroup):
    function = "percentile_disc"  # the nearest rank


def hours_between(rows, since, until):
    """(median, 90th percentile) in hours of ``until`` - ``since`` over ``rows``, or
    (None, None). PostgreSQL computes them; other databases (SQLite) get the
    durations sorted by the database and pick them here."""
    if connections[rows.db].vendor == "postgresql":
        delay = F(until) - F(since)
        figures = rows.aggregate(
            median=PercentileCont(delay, 0.5, output_field=DurationField()),
            p90=PercentileDisc(delay, 0.9, output_field=DurationField()),
        )
        median, p90 = figures["median"], figures["p90"]
    else:
        delays = [second - first for first, second in rows.values_list(since, until)]
        median = statistics.median(delays) if delays else None
        p90 = nearest_rank(delays, 90) if delays else None
    if median is None:
        return None, None
    return round(median.total_seconds() / 3600, 2), round(p90.total_seconds() / 3600, 2)


def breach_row(row):
    late_by = row["first_response_at"] - row["respond_by"] if row["first_response_at"] else None
    return {
        **row,
        "status": ConsultationRequest.Status(row["status"]).label,
        "recovery_hours": round(late_by.total_seconds() / 3600, 2) if late_by else None,
    }


def one_pass_figures(queryset):
    """Over ``queryset``, in one query: the requests by status and, of the counted ones,
    the breaches answered since, the apologies and on PostgreSQL the percentiles
    (each figure its own FILTER, so that a million requests are read once, not four
    times). Other databases (SQLite) get the percentiles from hours_between."""
    Status = ConsultationRequest.Status
    counted = ~Q(status__in=ConsultationRequest.NOT_COUNTED)
    answered = counted & Q(first_response_at__isnull=False)
    answered_late = counted & Q(first_response_at__gt=F("respond_by"))
    aggregates = {f"status:{value}": Count("pk", filter=Q(status=value)) for value in Status.values}
    aggregates["recovered"] = Count("pk", filter=answered_late)
    aggregates["apologies"] = Count("pk", filter=counted & Q(recovery_by__isnull=False))
    postgresql = connections[queryset.db].vendor == "postgresql"
    if postgresql:
        response = F("first_response_at") - F("received_at")
        recovery = F("first_response_at") - F("respond_by")
        duration = DurationField()
        aggregates["median"] = PercentileCont(response, 0.5, filter=answered, output_field=duration)
        aggregates["p90"] = PercentileDisc(response, 0.9, filter=answered, output_field=duration)
        aggregates["median_recovery"] = PercentileCont(
            recovery, 0.5, filter=answered_late, output_field=duration
        )
    figures = queryset.order_by().aggregate(**aggregates)
    if postgresql:
        figures["median"], figures["p90"] = in_hours(figures["median"], figures["p90"])
        figures["median_recovery"], _ = in_hours(figures["median_recovery"], None)
    else:
        counted_rows = queryset.filter(counted)
        figures["median"], figures["p90"] = hours_between(
            counted_rows.filter(answered), "received_at", "first_response_at"
        )
        figures["median_recovery"], _ = hours_between(
            counted_rows.filter(answered_late), "respond_by", "first_response_at"
        )
    return figures


def in_hours(*durations):
    return [None if d is None else round(d.total_seconds() / 3600, 2) for d in durations]


def build_report(queryset, *, now):
    """The report over ``queryset`` as of ``now``, in three queries on PostgreSQL: the
    figures in one pass (one_pass_figures), the weeks, the latest breaches."""
    figures = one_pass_figures(queryset)
    counts = {value: figures[f"status:{value}"] for value in ConsultationRequest.Status.values}
    by_status = [
        (label, counts.get(value, 0)) for value, label in ConsultationRequest.Status.choices
    ]

    counted = queryset.exclude(status__in=ConsultationRequest.NOT_COUNTED)
    answered = Q(first_response_at__isnull=False)
    on_time = Q(first_response_at__lte=F("respond_by"))
    settled = answered | Q(respond_by__lt=now)
    per_week = (
        counted.order_by()
        # Monday 00:00 UTC of the ISO week; PostgreSQL knows how many weeks there
        # are from the statistics migration 0013 made on this very expression.
        .values(monday=TruncWeek("received_at", tzinfo=UTC))
        .annotate(
            received=Count("pk"),
            settled=Count("pk", filter=settled),
            on_time=Count("pk", filter=on_time),
        )
        .order_by("monday")
    )
    weeks = [
        Week(
            label="{}-W{:02d}".format(*row["monday"].isocalendar()),
            received=row["received"],
            settled=row["settled"],
            on_time=row["on_time"],
        )
        for row in per_week
    ]
    breaches = counted.filter(
        Q(first_response_at__gt=F("respond_by"))
        | Q(first_response_at__isnull=True, respond_by__lt=now)
    ).values(*BREACH_FIELDS)
    latest = list(breaches.order_by("-received_at", "-pk")[:BREACHES_SHOWN])
    report = Report(
        by_status=by_status,
        weeks=weeks,
        median_hours=figures["median"],
        p90_hours=figures["p90"],
        breaches=[breach_row(row) for row in reversed(latest)],
        breach_count=sum(week.settled - week.on_time for week in weeks),
        all_breaches=breaches.order_by("received_at", "pk"),
        total=sum(counts.values()),
        recovered=figures["recovered"],
        median_recovery_hours=figures["median_recovery"],
        apologies=figures["apologies"],
    )
    report.bars = chart_bars(report.weeks)
    return report


def chart_bars(weeks):
    """Bar geometry for the SVG chart: one bar per week, its height the on-time share."""
    if not weeks:
        return []
    slot = CHART_WIDTH / len(weeks)
    width = min(slot * 0.7, 80)
    usable = CHART_HEIGHT - CHART_TOP
    bars = []
    for index, week in enumerate(weeks):
        share = week.share or 0
        height = round(usable * share / 100, 1)
        bars.append(
            {
                "week": week,
                "x": round(index * slot + (slot - width) / 2, 1),
                "width": round(width, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "height": height,
                "label_x": round(index * slot + slot / 2, 1),
                "label_y": round(CHART_HEIGHT - height - 6, 1),
                "text": "no data" if week.share is None else f"{week.share:g}%",
            }
        )
    return bars
