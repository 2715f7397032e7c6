"""Filling the booking form in a browser, as a visitor would."""

from tests.consultations.helpers import local_input, weekday_slots

VISITOR_TIMEZONE = "Europe/Berlin"


def free_slots(count=2, tz=VISITOR_TIMEZONE):
    """Slot starts the form accepts: weekdays from the day after tomorrow, 10:00 local."""
    return [local_input(slot) for slot in weekday_slots(count, hour=10, tz=tz)]


def fill_details(page, *, email="ada@example.com", topic=""):
    """Type who the visitor is and what they need, as every booking does."""
    page.get_by_label("Your name").fill("Ada Lovelace")
    if topic:
        page.get_by_label("Or the topic").fill(topic)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Company (optional)").fill("Analytical Engines Ltd")
    page.get_by_label("What do you need to decide?").fill(
        "We train vision models and must pick PyTorch or TensorFlow for mobile."
    )


def fill_booking_form(page, *, email="ada@example.com", consent=True):
    """Type a complete booking; only the email is a parameter, to make it wrong."""
    fill_details(page, email=email)
    first, second = free_slots()
    page.get_by_label("First choice").fill(first)
    page.get_by_label("Second choice").fill(second)
    if consent:
        page.get_by_label("You may contact me by email").check()
