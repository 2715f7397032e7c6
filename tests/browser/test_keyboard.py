"""The booking form works with a keyboard alone: order, visible focus, submit."""

import re

import pytest
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from consultations.models import ConsultationRequest

from .booking import VISITOR_TIMEZONE, free_slots

pytestmark = pytest.mark.browser

FIELD_ORDER = [
    "id_name",
    "id_email",
    "id_company",
    "id_comparison",
    "id_topic",
    "id_message",
    "id_timezone",
    "id_window_1",
    "id_window_2",
    "id_window_3",
    "id_consent",
]
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    id: element.id,
    text: element.textContent.trim(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def tab_to(page, expected):
    """Press Tab until focus leaves the current element; it must land on ``expected``."""
    start = page.evaluate(FOCUSED)["id"]
    for _ in range(10):  # a date-time field has a stop per part: day, month, year...
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["id"] != start or not start:
            break
    assert focused["id"] == expected, f"Tab went to {focused} instead of #{expected}"
    assert focused["outline"], f"#{expected} has focus but no visible focus outline"
    return focused


def type_slot(page, slot):
    """Type a "YYYY-MM-DDTHH:MM" slot into a focused date-time field, as en-US shows it.

    The parts are mm/dd/yyyy, hh:mm AM/PM; the year takes up to six digits, so
    Tab moves on from it, as a person would.
    """
    date, time = slot.split("T")
    year, month, day = date.split("-")
    hour, minute = (int(part) for part in time.split(":"))
    page.keyboard.type(month + day + year)
    page.keyboard.press("Tab")
    page.keyboard.type(f"{(hour - 1) % 12 + 1:02d}{minute:02d}{'A' if hour < 12 else 'P'}")


def test_booking_with_the_keyboard_only(live_server, open_page, settings):
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    load_demo_content()
    page = open_page("desktop", locale="en-US", timezone_id=VISITOR_TIMEZONE)
    page.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0, "the skip link stays off screen when focused"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    first, second = free_slots()
    typed = {
        "id_name": "Grace Hopper",
        "id_email": "grace@example.com",
        "id_message": "Which framework suits a small team shipping to phones?",
        "id_window_1": first,
        "id_window_2": second,
    }
    for field in FIELD_ORDER:
        tab_to(page, field)
        # Every field has a label that assistive technology announces.
        expect(page.locator(f"#{field}")).to_have_accessible_name(re.compile(r"\w{3,}"))
        if field.startswith("id_window") and field in typed:
            type_slot(page, typed[field])
        elif field in typed:
            page.keyboard.type(typed[field])
        elif field == "id_consent":
            page.keyboard.press("Space")
    assert page.evaluate(FOCUSED)["id"] == "id_consent"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["text"] == "privacy note"
    focused = tab_to(page, "submit-id-submit")
    assert focused["outline"]

    expect(page.get_by_label("First choice")).to_have_value(first)
    expect(page.get_by_label("You may contact me by email")).to_be_checked()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    consultation = ConsultationRequest.objects.get()
    assert consultation.name == "Grace Hopper"
    assert consultation.comparison.slug == "pytorch-vs-tensorflow"
    # Typed as 10:00 in the visitor's timezone, kept as that wall-clock time.
    assert ", 10:00 " in consultation.windows.all()[0].local_label()
