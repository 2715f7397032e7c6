"""Validators shared by every app that stores text people type."""

import unicodedata

from django.core.exceptions import ValidationError

# Tab and line breaks are part of ordinary text (browsers send textarea line
# breaks as CR LF); every other control character is invisible, breaks pages
# or emails, and PostgreSQL refuses NUL outright.
ALLOWED_CONTROL_CHARACTERS = frozenset("\t\n\r")


def validate_no_control_characters(value):
    """Refuse invisible control characters (and lone surrogates) with a clear message."""
    for char in str(value):
        if char in ALLOWED_CONTROL_CHARACTERS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValidationError(
                "This text contains an invisible control character (%(code)s), which we "
                "cannot store. It usually comes from pasting: retype the text around it.",
                code="control_character",
                params={"code": f"U+{ord(char):04X}"},
            )
