"""Email exactly once through a crash: two workers, one SIGKILLed mid-batch, a real SMTP server.

30 messages wait in the outbox of a real database that worker processes can
reach (PostgreSQL when DATABASE_URL points there, otherwise a SQLite file).
Two ``deliver_email`` workers send them to an aiosmtpd server inside the test,
which takes 0.2 s to accept each message, so a worker spends most of its time
waiting for the server's answer. Once 8 messages have arrived, one worker is
killed with SIGKILL: most likely while it waits for a "250 OK" to a message
the server already has. The other worker carries on, and takes the killed
worker's message over when its lease (5 s here, with a 1 s SMTP timeout) runs out. Afterwards:

- no message is lost: every one arrived, and every outbox row says sent;
- at most one message arrived twice (one kill, one message in flight);
- each message carried the same Message-ID on every delivery.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from tests.reliability.test_load_and_faults import throwaway_database  # noqa: F401
from tests.support.faults import free_port, manage
from tests.support.figures import record

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
MESSAGES = 30
KILL_AFTER = 8
LEASE_SECONDS = 5  # the shortest lease a 1 s SMTP timeout allows (settings)
SMTP_DELAY = 0.2


class SlowRecordingServer:
    """An SMTP handler that records each message's subject and Message-ID, slowly."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []  # (subject, Message-ID) per message received

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content)
        with self.lock:
            self.deliveries.append((message["Subject"], message["Message-ID"]))
        # The message is in; the sender waits for the answer. A kill now is the
        # worst case: sent, but never recorded as sent.
        await asyncio.sleep(SMTP_DELAY)
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.deliveries)


@pytest.fixture
def database_url(request, tmp_path):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return request.getfixturevalue("throwaway_database")
    return f"sqlite:///{tmp_path / 'outbox.sqlite3'}"


@pytest.fixture
def smtp_server():
    handler = SlowRecordingServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


QUEUE = f"""
from consultations.models import OutgoingEmail
OutgoingEmail.objects.bulk_create(
    OutgoingEmail(to=f"visitor{{n}}@example.com", subject=f"Message {{n}}", body="Hello")
    for n in range(1, {MESSAGES} + 1)
)
"""
STATUSES = """
from consultations.models import OutgoingEmail
for pk, status in OutgoingEmail.objects.values_list("pk", "status"):
    print("row", pk, status)
"""


def outbox_statuses(environment):
    lines = manage(environment, "shell", "-c", STATUSES).splitlines()
    rows = [line.split()[1:] for line in lines if line.startswith("row ")]
    return {int(pk): status for pk, status in rows}


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_one(
    database_url, smtp_server, tmp_path
):
    controller, server = smtp_server
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "EMAIL_TIMEOUT_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("EMAIL_BACKEND_PATH", "REDIS_URL"):
        environment.pop(name, None)
    manage(environment, "migrate", "--noinput")
    manage(environment, "shell", "-c", QUEUE)

    log_path = tmp_path / "workers.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        victim, survivor = (
            subprocess.Popen(
                [sys.executable, "manage.py", "deliver_email", "--sleep", "0.2"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=log,
            )
            for _ in range(2)
        )
    try:
        assert wait_for(lambda: server.count() >= KILL_AFTER, timeout=60), log_path.read_text()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        arrived_at_kill = server.count()
        # The survivor sends the rest, and the victim's message once its lease ends.
        everything_sent = wait_for(
            lambda: set(outbox_statuses(environment).values()) == {"sent"},
            timeout=60,
        )
        duration = time.monotonic() - started
    finally:
        for worker in (victim, survivor):
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
    time.sleep(SMTP_DELAY * 2)  # a last answer in flight

    deliveries = list(server.deliveries)
    by_subject = defaultdict(set)
    for subject, message_id in deliveries:
        by_subject[subject].add(message_id)
    times_each = Counter(subject for subject, _ in deliveries)
    duplicates = sum(count - 1 for count in times_each.values())
    statuses = outbox_statuses(environment)
    record(
        "outbox crash",
        f"outbox crash ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} run, "
        f"worker db {database_url.split(':', 1)[0]}): {MESSAGES} queued, 2 workers, 1 SIGKILLed "
        f"after {arrived_at_kill} had arrived; delivered {len(by_subject)} distinct in "
        f"{len(deliveries)} deliveries ({duplicates} duplicate); outbox "
        f"{dict(Counter(statuses.values()))}; lease {LEASE_SECONDS} s; {duration:.1f} s",
    )

    assert everything_sent, statuses
    assert victim.returncode == -signal.SIGKILL
    assert survivor.returncode == 0, log_path.read_text()[-3000:]
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]
    assert arrived_at_kill < MESSAGES, "the kill came after the batch"
    # Nothing lost: every message arrived and its row says so.
    assert set(by_subject) == {f"Message {n}" for n in range(1, MESSAGES + 1)}
    assert len(statuses) == MESSAGES and set(statuses.values()) == {"sent"}
    # At most one duplicate per kill: the message the victim was sending.
    assert duplicates <= 1, times_each
    # A stable Message-ID: one per message, the same on every delivery, unique across them.
    assert all(len(ids) == 1 for ids in by_subject.values()), by_subject
    assert len({next(iter(ids)) for ids in by_subject.values()}) == MESSAGES
    assert all(message_id.startswith("<outbox-") for _, message_id in deliveries)
