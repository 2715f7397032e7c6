"""Booking form data as a visitor's browser sends it."""

import secrets
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import signing
from django.utils import timezone

from consultations.abuse import RENDER_SALT
from tests.clock import FIXED_NOW


class _EarlierSigner(signing.TimestampSigner):
    def __init__(self, *, seconds_ago, **kwargs):
        super().__init__(**kwargs)
        self.seconds_ago = seconds_ago

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - self.seconds_ago)


def rendered_token(seconds_ago=60):
    """A new form's signed render token (its own nonce), as if shown ``seconds_ago``."""
    signer = _EarlierSigner(seconds_ago=seconds_ago, salt=RENDER_SALT)
    return signer.sign(secrets.token_urlsafe(16))


def weekday_slots(count, *, days_ahead=2, hour=10, minute=0, tz="UTC", now=None):
    """Local wall-clock times at ``hour:minute`` on the next ``count`` weekdays,
    the first at least ``days_ahead`` days after ``now`` (the test's clock)."""
    now = now or timezone.now()
    day = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=days_ahead)
    slots = []
    while len(slots) < count:
        if day.weekday() < 5:
            slots.append(datetime(day.year, day.month, day.day, hour, minute))
        day += timedelta(days=1)
    return slots


def weekday_slot(days_ahead=2, hour=10, minute=0, tz="UTC", now=None):
    """A local wall-clock time on the first weekday at least ``days_ahead`` days from now."""
    return weekday_slots(1, days_ahead=days_ahead, hour=hour, minute=minute, tz=tz, now=now)[0]


def local_input(moment):
    return moment.strftime("%Y-%m-%dT%H:%M")


def booking_data(**overrides):
    """A valid booking: a topic, two windows in UTC, consent, an old enough render time."""
    first = weekday_slot(hour=10)
    data = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Ltd",
        "comparison": "",
        "topic": "Choosing a framework",
        "message": "Which framework should we pick for our first model?",
        "timezone": "UTC",
        "window_1": local_input(first),
        "window_2": local_input(first + timedelta(hours=3)),
        "window_3": "",
        "consent": "on",
        "website": "",
        "rendered": rendered_token(),
    }
    data.update(overrides)
    return data


def fixed_booking(**overrides):
    """booking_data() with windows on Thursday, two days after FIXED_NOW (10:00 and
    13:00 UTC); call it with the clock at FIXED_NOW."""
    first = FIXED_NOW + timedelta(days=2, hours=1)
    windows = {"window_1": local_input(first), "window_2": local_input(first + timedelta(hours=3))}
    return booking_data(**{**windows, **overrides})
