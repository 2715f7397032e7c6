"""Run inside ``manage.py shell`` over a SQLite database (tests/consultations/
test_slot_race.py): RACERS threads each try to hold the same consultant's slot,
released together; prints the outcome as JSON."""

import json
import threading
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from consultations.models import SlotHold, SlotTaken
from tests.factories import make_consultant, make_consultation

RACERS = 20


def main():
    assert connection.vendor == "sqlite", connection.vendor
    consultant = make_consultant(weekdays=range(7), starts="00:00", ends="23:59")
    requests = [make_consultation() for _ in range(RACERS)]
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    barrier = threading.Barrier(RACERS)
    outcomes = [None] * RACERS

    def race(index):
        try:
            barrier.wait()
            with transaction.atomic():
                # Read first, as a booking does, then hold.
                SlotHold.objects.filter(consultant=consultant).count()
                SlotHold.objects.take(
                    consultant_id=consultant.pk, request=requests[index], starts_at=start
                )
                time.sleep(0.01)  # keep the transaction open a moment: the others must wait
            outcomes[index] = "held"
        except SlotTaken:
            outcomes[index] = "taken"
        except Exception as error:  # reported, so the test shows what went wrong
            outcomes[index] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        json.dumps(
            {
                "outcomes": outcomes,
                "holds": SlotHold.objects.filter(starts_at=start).count(),
                "seconds": round(time.perf_counter() - began, 2),
            }
        )
    )


main()
