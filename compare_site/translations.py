"""
Compile the interface's translations (locale/<language>/LC_MESSAGES/*.po) into the
.mo files Django reads, in pure Python with Babel, so that a fresh machine needs
no GNU gettext to run or test the site (extracting new strings with
``makemessages`` does; see "Languages" in the README).

``python -m compare_site.translations`` compiles what is missing or older than
its .po; ``make run``, ``make test`` and the test runner (compare_site/pytest_plugin.py)
call it. The .mo files are build output, not committed (.gitignore).
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogues():
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def compile_messages(*, only_stale=True):
    """Write each catalogue's .mo; returns the .po files compiled. Fuzzy entries are
    left out, as msgfmt does: a guess is never shown to readers."""
    compiled = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        if only_stale and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        errors = [(message.id, error) for message, error in catalogue.check() if error]
        if errors:
            raise ValueError(f"{po}: {errors[0][0]!r}: {errors[0][1][0]}")
        temporary = mo.with_suffix(".mo.tmp")
        with temporary.open("wb") as target:
            write_mo(target, catalogue, use_fuzzy=False)
        temporary.replace(mo)  # atomic: a reader never sees half a file
        compiled.append(po)
    return compiled


if __name__ == "__main__":
    for po in compile_messages(only_stale="--all" not in sys.argv):
        print(f"Compiled {po.relative_to(LOCALE_DIR.parent)}")
