"""The bench's data commands run, and make what the bench's targets read."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from comparisons.models import Comparison
from consultations.models import ConsultationRequest

pytestmark = pytest.mark.django_db


def test_the_bench_data_commands_make_comparisons_and_requests(settings):
    settings.CONSULTATION_REPLY_HOURS = 12
    call_command("generate_bench_data", "--comparisons=3", verbosity=0)
    call_command("generate_bench_requests", "--requests=20", verbosity=0)
    assert Comparison.objects.count() >= 3
    requests = list(ConsultationRequest.objects.all())
    assert len(requests) == 20
    assert {r.respond_by - r.received_at for r in requests} == {timedelta(hours=12)}
