"""Twenty visitors race for the same free slot over real HTTP: exactly one gets it.

Each client loads the booking form from a real server (pytest-django's live
server, a thread per request, over the PostgreSQL test database), then all
of them send the same slot at once, released together by a barrier. The
database decides (the exclusion constraint on PostgreSQL): one booking is
saved with the slot held, and every other visitor gets the form back with a
clear message and everything they typed. The second test races twenty threads
for one slot on SQLite, where the write lock taken as each transaction begins
does the exclusion constraint's job.
"""

import html
import http.client
import json
import os
import re
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from consultations.models import ConsultationRequest, SlotHold
from tests.consultations.helpers import rendered_token
from tests.factories import make_consultant
from tests.support.faults import manage
from tests.support.figures import record
from tests.support.missing import require_postgresql

# slow: a real server; the real clock (every day is a working day below).
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = 20
TAKEN = "That slot was just taken — pick another; everything you typed is kept"


class Visitor:
    """One browser's worth of HTTP: its own cookies, its own copy of the form."""

    def __init__(self, base_url, number):
        self.address = urlsplit(base_url)
        self.number = number
        self.cookies = {}

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection(
            self.address.hostname, self.address.port, timeout=30
        )
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        # The cookies are Secure, as in production; this client sends them anyway.
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        content = response.read().decode()
        connection.close()
        return response.status, content

    def load_form(self):
        status, page = self.request("GET", reverse("consultations:book"))
        assert status == 200
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return page

    def book(self, slot):
        data = {
            "csrfmiddlewaretoken": self.csrf,
            "name": f"Visitor Number{self.number}",
            "email": f"visitor{self.number}@example.com",
            "topic": "Choosing a framework",
            "message": f"Message number {self.number}: which framework for our first model?",
            "timezone": "UTC",
            "slots": slot,
            "consent": "on",
            "website": "",
            "rendered": rendered_token(),
        }
        return self.request("POST", reverse("consultations:book"), urlencode(data))


def test_twenty_visitors_race_for_one_slot_and_one_wins(live_server, settings):
    # SQLite's in-memory test database, shared between the live server's threads,
    # refuses concurrent writers outright ("database table is locked"): the SQLite
    # path is raced in the next test, over a file, as `make run` uses it.
    require_postgresql(connection)
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    settings.CONSULTATION_BOOKINGS_PER_IP_HOUR = 1000  # all twenty come from 127.0.0.1
    # An earlier live-server test's flush may have erased the migrations' groups.
    Group.objects.get_or_create(name="Consultants")
    make_consultant(weekdays=range(7), starts="00:00", ends="23:59")
    visitors = [Visitor(live_server.url, number) for number in range(CLIENTS)]
    pages = [visitor.load_form() for visitor in visitors]
    slot = re.search(r'name="slots" value="([^"]+)"', pages[0]).group(1)

    barrier = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def race(index):
        barrier.wait()
        results[index] = visitors[index].book(slot)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - started

    winners = [i for i, (status, _) in enumerate(results) if status == 302]
    losers = [i for i, (status, _) in enumerate(results) if status == 409]
    record(
        "slot race",
        f"slot race: {CLIENTS} clients for one slot over HTTP: {len(winners)} winner, "
        f"{len(losers)} told it was taken, {CLIENTS - len(winners) - len(losers)} other, "
        f"{elapsed:.2f} s",
    )
    others = [status for status, _ in results if status not in (302, 409)]
    assert len(winners) == 1 and len(losers) == CLIENTS - 1, others
    for index in losers:
        page = html.unescape(results[index][1])
        assert TAKEN in page
        # Everything typed is kept, and the taken slot is no longer offered.
        assert f'value="Visitor Number{index}"' in page
        assert f"Message number {index}: which framework" in page
        assert f'value="{slot}"' not in page
    winner = ConsultationRequest.objects.get()
    assert winner.email == f"visitor{winners[0]}@example.com"
    hold = SlotHold.objects.get()
    assert hold.request == winner and hold.starts_at.strftime("%Y-%m-%dT%H:%MZ") == slot


def test_on_sqlite_twenty_holds_of_one_slot_leave_one(tmp_path):
    """The SQLite path of SlotHoldQuerySet.take(), in a process of its own over a SQLite
    file (this suite's database is PostgreSQL): lock, look, insert; one hold survives."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'slots.sqlite3'}",
        "DJANGO_DEBUG": "1",
    }
    manage(environment, "migrate", "--noinput")
    output = manage(environment, "shell", "-c", "import tests.support.sqlite_slot_race")
    result = json.loads(output.strip().splitlines()[-1])
    outcomes = result["outcomes"]
    record(
        "slot race sqlite",
        f"slot race on SQLite: {len(outcomes)} threads for one slot: "
        f"{outcomes.count('held')} held, {outcomes.count('taken')} told it was taken, "
        f"{result['seconds']:.2f} s",
    )
    assert outcomes.count("held") == 1
    assert outcomes.count("taken") == len(outcomes) - 1, outcomes
    assert result["holds"] == 1
