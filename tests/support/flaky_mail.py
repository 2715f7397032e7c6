"""Mail backends for tests: one whose server is down (BROKEN), and one whose
server fails at random and records deliveries (FlakyMailServer).

Selected in a separate process through EMAIL_BACKEND_PATH (test-only, see
settings). Each message that "goes out" appends its Message-ID to the file
FLAKY_MAIL_LOG; each injected failure appends a line to FLAKY_MAIL_FAILURES.
Several worker processes write to the same files, so each append holds an
exclusive lock. FLAKY_MAIL_FAILURE_RATE (0 to 1) is the chance that a send
fails before anything is recorded, as a refused SMTP connection would.
"""

import fcntl
import os
import random

from django.core.mail.backends.base import BaseEmailBackend


def append_line(path, line):
    with open(path, "a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.write(line + "\n")
            file.flush()
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().splitlines()
    except FileNotFoundError:
        return []


class FlakyMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        rate = float(os.environ.get("FLAKY_MAIL_FAILURE_RATE", "0"))
        sent = 0
        for message in email_messages:
            if random.random() < rate:
                append_line(os.environ["FLAKY_MAIL_FAILURES"], "failure")
                raise ConnectionRefusedError("mail server is down (injected by the test)")
            # Rendering the whole message checks its headers as a real send would.
            append_line(os.environ["FLAKY_MAIL_LOG"], message.message()["Message-ID"])
            sent += 1
        return sent


class BrokenMailServer(BaseEmailBackend):
    """A mail backend whose server is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server is down")


# MAILERS for a mail server that is down: ``override_settings(MAILERS=BROKEN)``.
BROKEN = {"default": {"BACKEND": "tests.support.flaky_mail.BrokenMailServer"}}
