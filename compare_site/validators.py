"""Validators shared by every app that stores text people type."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Tab and line breaks are part of ordinary text (browsers send textarea line
# breaks as CR LF); every other control character is invisible, breaks pages
# or emails, and PostgreSQL refuses NUL outright.
ALLOWED_CONTROL_CHARACTERS = frozenset("\t\n\r")

# Invisible formatting characters that make text display as something other
# than what it says: bidirectional embeddings, overrides, isolates and marks
# (U+202E shows "Ada\u202enimda" as "Adaadmin"), zero-width spaces and
# joiners that hide inside a word, the byte order mark, and the deprecated
# and annotation format characters. Not refused: U+200C ZERO WIDTH NON-JOINER
# and U+200D ZERO WIDTH JOINER, which Persian and Indic spelling and emoji
# sequences (a woman technologist is U+1F469 U+200D U+1F4BB) need.
DISGUISING_CHARACTERS = frozenset(
    [
        "\u061c",  # ARABIC LETTER MARK
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\u200b",  # ZERO WIDTH SPACE
        "\u200e",  # LEFT-TO-RIGHT MARK
        "\u200f",  # RIGHT-TO-LEFT MARK
        *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings and overrides
        *(chr(code) for code in range(0x2060, 0x2065)),  # word joiner, invisible operators
        *(chr(code) for code in range(0x2066, 0x2070)),  # isolates, deprecated formats
        "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (byte order mark)
        *(chr(code) for code in range(0xFFF9, 0xFFFC)),  # interlinear annotation
    ]
)


def validate_no_control_characters(value):
    """Refuse invisible control characters (and lone surrogates) and the invisible
    formatting characters that disguise text, with a message naming the character."""
    for char in str(value):
        if char in ALLOWED_CONTROL_CHARACTERS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValidationError(
                _(
                    "This text contains an invisible control character (%(code)s), which we "
                    "cannot store. It usually comes from pasting: retype the text around it."
                ),
                code="control_character",
                params={"code": f"U+{ord(char):04X}"},
            )
        if char in DISGUISING_CHARACTERS:
            raise ValidationError(
                _(
                    "This text contains an invisible formatting character (%(code)s %(name)s), "
                    "which can make text display differently from what it says. It usually "
                    "comes from pasting: retype the text around it."
                ),
                code="disguising_character",
                params={"code": f"U+{ord(char):04X}", "name": unicodedata.name(char)},
            )


def validate_http_url(value):
    """Refuse a link that is not http:// or https:// (ftp:, javascript:, data: and the
    like): links people give us are shown to editors, and must open in a browser."""
    if value and not str(value).startswith(("http://", "https://")):
        raise ValidationError(
            _("The link must start with http:// or https://."), code="link_scheme"
        )
