"""The bench's data commands run, and make what the bench's targets read."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from comparisons.models import Comparison, Framework
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


def test_the_large_catalogue_draws_on_as_many_frameworks_as_asked():
    call_command("generate_bench_data", "--comparisons=6", "--frameworks=40", verbosity=0)
    assert Framework.objects.filter(slug__startswith="framework-").count() == 40 - 28
    assert Framework.objects.get(slug="framework-0040").name == "Framework 0040"
    # A second run reuses every row.
    call_command("generate_bench_data", "--comparisons=6", "--frameworks=40", verbosity=0)
    assert Framework.objects.filter(slug__startswith="framework-").count() == 12
    assert Comparison.objects.filter(slug__startswith="bench-").count() == 6
    with pytest.raises(CommandError, match="at least 4"):
        call_command("generate_bench_data", "--frameworks=3", verbosity=0)
