"""The outbox sender: leases, one mail connection per pass, results only from the lease holder."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail import mailers
from django.core.mail.backends.locmem import EmailBackend

from consultations.models import OutgoingEmail
from consultations.outbox import deliver_due
from tests.clock import at

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


class CountingMailServer(EmailBackend):
    """The test mail backend, counting connections as the SMTP backend makes them:
    open() on an open connection does nothing. FAIL_ON lists subjects it refuses."""

    opened = 0
    FAIL_ON = ()
    is_open = False

    def open(self):
        if self.is_open:
            return False
        self.is_open = True
        CountingMailServer.opened += 1
        return True

    def close(self):
        self.is_open = False

    def send_messages(self, messages):
        if any(message.subject in self.FAIL_ON for message in messages):
            raise ConnectionResetError("the server hung up")
        return super().send_messages(messages)


COUNTING = {"default": {"BACKEND": "tests.consultations.test_outbox_leases.CountingMailServer"}}


@pytest.fixture
def frozen():
    with at(NOW):
        yield


@pytest.fixture
def counting_server(monkeypatch, settings):
    settings.MAILERS = COUNTING
    monkeypatch.setattr(CountingMailServer, "opened", 0)
    monkeypatch.setattr(CountingMailServer, "FAIL_ON", ())


def make_messages(count):
    return [
        OutgoingEmail.objects.create(to=f"v{n}@example.com", subject=f"Message {n}", body="Hi")
        for n in range(1, count + 1)
    ]


@pytest.mark.usefixtures("frozen", "counting_server")
class TestOneConnectionPerPass:
    def test_a_pass_sends_every_message_through_one_connection(self):
        make_messages(5)
        assert deliver_due() == (5, 0)
        assert CountingMailServer.opened == 1
        assert len(mail.outbox) == 5

    def test_a_failed_send_gets_a_fresh_connection_for_the_next_message(self):
        make_messages(4)
        CountingMailServer.FAIL_ON = ("Message 2",)
        assert deliver_due() == (3, 1)
        assert CountingMailServer.opened == 2
        failed = OutgoingEmail.objects.get(subject="Message 2")
        assert (failed.status, failed.attempts) == ("pending", 1)
        assert failed.leased_until is None and failed.lease_token == ""


@pytest.mark.usefixtures("frozen")
class TestLeases:
    def test_a_leased_message_is_not_claimed_again_until_the_lease_runs_out(self, settings):
        (message,) = make_messages(1)
        first = OutgoingEmail.objects.claim_next(token="a" * 32)
        assert first.pk == message.pk
        message.refresh_from_db()
        assert message.lease_token == "a" * 32
        assert message.leased_until == NOW + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)

        # Another worker finds nothing while the lease holds (its last second included)...
        assert OutgoingEmail.objects.claim_next(token="b" * 32) is None
        with at(message.leased_until):
            assert OutgoingEmail.objects.claim_next(token="b" * 32) is None
        # ...and takes the message over once it has run out (the first worker died).
        with at(message.leased_until + timedelta(microseconds=1)):
            second = OutgoingEmail.objects.claim_next(token="b" * 32)
            assert second.pk == message.pk
            connection = mailers.default
            # The first worker wakes up: the message is no longer its to send.
            assert first.deliver(connection) is None
            assert mail.outbox == []
            message.refresh_from_db()
            assert (message.status, message.lease_token) == ("pending", "b" * 32)
            # The holder sends it, once.
            assert second.deliver(connection) is True
        assert len(mail.outbox) == 1
        message.refresh_from_db()
        assert (message.status, message.attempts, message.lease_token) == ("sent", 1, "")

    def test_the_lease_is_renewed_once_the_connection_is_open(self, settings):
        """A slow connection (several SMTP timeouts) must not use up the lease the send needs."""
        (message,) = make_messages(1)
        claimed = OutgoingEmail.objects.claim_next(token="a" * 32)
        opened_at = NOW + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS - 1)
        connecting_takes_until_opened_at = time_machine.travel(opened_at, tick=False)
        leases_during_send = []

        class SlowToConnect(EmailBackend):
            def open(self):
                connecting_takes_until_opened_at.start()

            def send_messages(self, messages):
                message.refresh_from_db()
                leases_during_send.append(message.leased_until)
                return super().send_messages(messages)

        try:
            assert claimed.deliver(SlowToConnect()) is True
        finally:
            connecting_takes_until_opened_at.stop()
        lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        assert leases_during_send == [opened_at + lease]

    def test_a_message_erased_while_being_sent_is_not_marked_sent(self):
        (message,) = make_messages(1)
        claimed = OutgoingEmail.objects.claim_next(token="a" * 32)
        OutgoingEmail.objects.filter(pk=message.pk).anonymise()
        claimed.deliver(mailers.default)
        message.refresh_from_db()
        assert message.status == "failed"

    def test_the_message_id_header_is_the_stable_one(self):
        (message,) = make_messages(1)
        deliver_due()
        (sent,) = mail.outbox
        assert sent.message()["Message-ID"] == message.message_id
        assert message.message_id == message.as_message().message()["Message-ID"]


@pytest.mark.parametrize(
    ("lease", "smtp_timeout", "refused"),
    [("49", "10", True), ("50", "10", False), ("5", "1", False)],
)
def test_a_lease_shorter_than_one_send_is_refused_at_start_up(lease, smtp_timeout, refused):
    environment = {
        **os.environ,
        "OUTBOX_LEASE_SECONDS": lease,
        "EMAIL_TIMEOUT_SECONDS": smtp_timeout,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import compare_site.settings"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert (result.returncode != 0) is refused, result.stderr
    if refused:
        assert "OUTBOX_LEASE_SECONDS (49) must be at least" in result.stderr
