"""A fixed instant for booking tests, and windows derived from it (never from today)."""

from datetime import UTC, datetime

from tests.consultations.helpers import booking_data

# Tuesday 24 November 2026, 09:00 UTC. Thursday 26 November is two days ahead.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WINDOW_1 = "2026-11-26T10:00"
WINDOW_2 = "2026-11-26T13:00"


def fixed_booking(**overrides):
    """booking_data() with windows two days after NOW; call it with the clock at NOW."""
    return booking_data(**{"window_1": WINDOW_1, "window_2": WINDOW_2, **overrides})
