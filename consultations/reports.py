"""
The staff report: how well the promise to reply within CONSULTATION_REPLY_HOURS is kept.

Figures are computed in Python from one query. Spam and duplicates never
count. A request is *settled* once it was answered or its deadline passed;
a *breach* is a settled request not answered by respond_by, and its
*recovery* the time from respond_by to the first response that came late
(none yet while unanswered). Weeks are ISO
weeks of the arrival time in UTC. The 90th percentile uses the nearest-rank
method (the smallest value with at least 90% of values at or below it).
"""

import math
import statistics
from dataclasses import dataclass, field

from django.conf import settings

from .models import ConsultationRequest

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
    breaches: list
    total: int
    median_recovery_hours: float | None = None
    apologies: int = 0
    bars: list = field(default_factory=list)
    chart: dict = field(default_factory=lambda: CHART)

    @property
    def recovered(self):
        """Breaches answered since, late."""
        return sum(1 for row in self.breaches if row["recovery_hours"] is not None)

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
        yield ["Breaches", len(self.breaches)]
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
        for row in self.breaches:
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


def median_of(values):
    return round(statistics.median(values), 2) if values else None


def build_report(queryset, *, now):
    rows = list(
        queryset.order_by("received_at", "pk").values(
            "reference", "status", "received_at", "respond_by", "first_response_at", "recovery_by"
        )
    )
    counts = {status: 0 for status in ConsultationRequest.Status.values}
    for row in rows:
        counts[row["status"]] += 1
    by_status = [(ConsultationRequest.Status(s).label, n) for s, n in counts.items()]

    weeks = {}
    hours = []
    breaches = []
    apologies = 0
    for row in rows:
        if row["status"] in ConsultationRequest.NOT_COUNTED:
            continue
        apologies += row.pop("recovery_by") is not None
        year, number, _ = row["received_at"].isocalendar()
        week = weeks.setdefault((year, number), Week(label=f"{year}-W{number:02d}"))
        week.received += 1
        answered = row["first_response_at"]
        if answered is not None:
            hours.append((answered - row["received_at"]).total_seconds() / 3600)
        if answered is None and row["respond_by"] >= now:
            continue  # the clock is still running
        week.settled += 1
        if answered is not None and answered <= row["respond_by"]:
            week.on_time += 1
        else:
            recovery = None
            if answered is not None:
                recovery = round((answered - row["respond_by"]).total_seconds() / 3600, 2)
            breaches.append(
                {
                    **row,
                    "status": ConsultationRequest.Status(row["status"]).label,
                    "recovery_hours": recovery,
                }
            )

    report = Report(
        by_status=by_status,
        weeks=[weeks[key] for key in sorted(weeks)],
        median_hours=round(statistics.median(hours), 2) if hours else None,
        p90_hours=round(nearest_rank(hours, 90), 2) if hours else None,
        breaches=breaches,
        total=len(rows),
        median_recovery_hours=median_of(
            [row["recovery_hours"] for row in breaches if row["recovery_hours"] is not None]
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
