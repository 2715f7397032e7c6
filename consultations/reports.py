"""
The staff report: how well the promise to reply within CONSULTATION_REPLY_HOURS is kept.

Every figure is computed by the database, so the report costs a fixed handful
of queries however many requests there are: every count in one pass grouped by
week and status, then each percentile read at its rank from the delays the
database sorts (on PostgreSQL an index already holds them in order), then the
latest breaches. Spam and duplicates never count. A request is *settled*
once it was answered or its deadline passed; a *breach* is a settled request
not answered by respond_by, and its *recovery* the time from respond_by to
the first response that came late (none yet while unanswered). Weeks are ISO
weeks of the arrival time in UTC.
The median is the middle value (the mean of the two middle ones for an even
count); the 90th percentile uses the nearest-rank method (the smallest value
with at least 90% of values at or below it).
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.conf import settings
from django.db.models import Count, F, Q
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
    return ordered[nearest_rank_index(len(ordered), percent)]


def nearest_rank_index(count, percent):
    """The 0-based position of the nearest-rank ``percent``-th percentile of ``count`` values."""
    return max(math.ceil(percent / 100 * count) - 1, 0)


def median_hours(rows, delay, count):
    """The median in hours of ``delay`` over ``rows``, of which there are ``count``, or None.

    The database sorts (on PostgreSQL reads an index in order, migration 0020) and
    skips to the middle: one value for an odd count, the two middle ones otherwise.
    ``count`` comes from the counting pass, a statement earlier: a request answered
    in between moves the rank by one, no more.
    """
    ordered = rows.annotate(delay=delay).order_by("delay").values_list("delay", flat=True)
    middle = list(ordered[max((count - 1) // 2, 0) : count // 2 + 1])
    return in_hours(sum(middle, timedelta()) / len(middle)) if middle else None


def p90_hours(rows, delay, count):
    """The nearest-rank 90th percentile in hours of ``delay`` over ``rows`` (``count`` of
    them), or None. Counted from the top: a tenth of the index, not nine tenths."""
    from_top = max(count - 1 - nearest_rank_index(count, 90), 0)
    ordered = rows.annotate(delay=delay).order_by("-delay").values_list("delay", flat=True)
    value = list(ordered[from_top : from_top + 1])
    return in_hours(value[0]) if value else None


def in_hours(duration):
    return round(duration.total_seconds() / 3600, 2)


def breach_row(row):
    late_by = row["first_response_at"] - row["respond_by"] if row["first_response_at"] else None
    return {
        **row,
        "status": ConsultationRequest.Status(row["status"]).label,
        "recovery_hours": in_hours(late_by) if late_by else None,
    }


def build_report(queryset, *, now):
    """The report over ``queryset`` as of ``now``, in five queries: every count in one
    pass over the requests, grouped by week and status; the three percentiles, each
    read at its rank; the latest breaches."""
    Status = ConsultationRequest.Status
    answered = Q(first_response_at__isnull=False)
    on_time = Q(first_response_at__lte=F("respond_by"))
    late = Q(first_response_at__gt=F("respond_by"))
    settled = answered | Q(respond_by__lt=now)
    groups = (
        queryset.order_by()
        # Monday 00:00 UTC of the ISO week; PostgreSQL knows how many weeks there
        # are from the statistics migration 0013 made on this very expression.
        .values("status", monday=TruncWeek("received_at", tzinfo=UTC))
        .annotate(
            received=Count("pk"),
            settled=Count("pk", filter=settled),
            on_time=Count("pk", filter=on_time),
            late=Count("pk", filter=late),
            answered=Count("pk", filter=answered),
            apologies=Count("pk", filter=Q(recovery_by__isnull=False)),
        )
        .order_by("monday")
    )
    counts = dict.fromkeys(Status.values, 0)
    weeks = {}
    answered_count = recovered = apologies = 0
    for group in groups:
        counts[group["status"]] += group["received"]
        if group["status"] in ConsultationRequest.NOT_COUNTED:
            continue
        label = "{}-W{:02d}".format(*group["monday"].isocalendar())
        week = weeks.setdefault(label, Week(label=label))
        week.received += group["received"]
        week.settled += group["settled"]
        week.on_time += group["on_time"]
        answered_count += group["answered"]
        recovered += group["late"]
        apologies += group["apologies"]
    weeks = list(weeks.values())

    counted = queryset.exclude(status__in=ConsultationRequest.NOT_COUNTED)
    response = F("first_response_at") - F("received_at")
    answered_rows = counted.filter(answered)
    late_rows = counted.filter(late)
    breaches = counted.filter(late | Q(first_response_at__isnull=True, respond_by__lt=now))
    breaches = breaches.values(*BREACH_FIELDS)
    latest = list(breaches.order_by("-received_at", "-pk")[:BREACHES_SHOWN])
    report = Report(
        by_status=[(label, counts[value]) for value, label in Status.choices],
        weeks=weeks,
        median_hours=median_hours(answered_rows, response, answered_count),
        p90_hours=p90_hours(answered_rows, response, answered_count),
        breaches=[breach_row(row) for row in reversed(latest)],
        breach_count=sum(week.settled - week.on_time for week in weeks),
        all_breaches=breaches.order_by("received_at", "pk"),
        total=sum(counts.values()),
        recovered=recovered,
        median_recovery_hours=median_hours(
            late_rows, F("first_response_at") - F("respond_by"), recovered
        ),
        apologies=apologies,
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
