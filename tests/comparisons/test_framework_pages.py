"""Each framework in a published comparison has a page: what it is, where it stands, figures."""

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comparisons.models import Participant
from tests.factories import make_comparison, make_framework, make_statistic
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db


def framework_url(framework, **query):
    url = reverse("comparisons:framework", args=[framework.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def pytorch():
    pytorch = make_framework("PyTorch", description="A deep learning framework by Meta.")
    pytorch.website = "https://pytorch.org"
    pytorch.save()
    return pytorch


class TestFrameworkPage:
    def test_it_shows_what_it_is_and_its_result_in_each_comparison(self, client, pytorch):
        tensorflow, jax = make_framework("TensorFlow"), make_framework("JAX")
        # Factor n is won by framework n modulo 2: PyTorch wins 3 of 5 here.
        first = make_comparison([pytorch, tensorflow], factors=5, title="PyTorch vs TensorFlow")
        second = make_comparison([jax, pytorch], factors=2, title="JAX vs PyTorch")
        text = page_text(client.get(framework_url(pytorch)))
        assert "A deep learning framework by Meta." in text
        assert "Homepage: https://pytorch.org" in text
        assert "In 2 comparisons" in text
        assert "PyTorch won 3 of 5 factors against TensorFlow" in text
        assert "PyTorch won 1 of 2 factors against JAX" in text
        assert first.title in text and second.title in text

    def test_the_latest_version_compared_and_its_date(self, client, pytorch):
        older = make_comparison([pytorch, make_framework("TensorFlow")], title="Older")
        newer = make_comparison([pytorch, make_framework("JAX")], title="Newer")
        Participant.objects.filter(comparison=older, framework=pytorch).update(
            version="2.4", version_as_of=date(2025, 3, 1)
        )
        Participant.objects.filter(comparison=newer, framework=pytorch).update(
            version="2.10", version_as_of=date(2026, 3, 1)
        )
        response = client.get(framework_url(pytorch))
        assert "Latest version compared: 2.10, as of March 2026 (in Newer" in page_text(response)
        data = json.loads(
            re.search(
                r'<script type="application/ld\+json">(.*?)</script>', response.content.decode()
            ).group(1)
        )
        assert data["@type"] == "SoftwareApplication"
        assert data["softwareVersion"] == "2.10"
        assert data["sameAs"] == "https://pytorch.org"

    def test_figures_that_name_it_with_their_source(self, client, pytorch):
        comparison = make_comparison([pytorch, make_framework("TensorFlow")])
        make_statistic(comparison, value="78%", description="of new papers use PyTorch")
        make_statistic(comparison, value="12%", description="of something else")
        make_statistic(comparison, value="9%", description="PyTorch, unsourced", source_url="")
        text = page_text(client.get(framework_url(pytorch)))
        assert "78% of new papers use PyTorch" in text
        assert "of something else" not in text and "unsourced" not in text

    def test_a_framework_in_no_published_comparison_has_no_page(self, client, pytorch):
        make_comparison([pytorch, make_framework("TensorFlow")], published=False)
        assert client.get(framework_url(pytorch)).status_code == 404
        assert client.get(framework_url(make_framework("Lonely"))).status_code == 404

    def test_a_page_past_the_last_is_404(self, client, pytorch):
        make_comparison([pytorch, make_framework("TensorFlow")])
        assert client.get(framework_url(pytorch, page=2)).status_code == 404
        assert client.get(framework_url(pytorch, page="x")).status_code == 404

    def test_comparison_pages_link_each_framework_name_to_its_page(self, client, pytorch):
        comparison = make_comparison([pytorch, make_framework("TensorFlow")])
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert body.count(f'href="{framework_url(pytorch)}"') == 2  # the card and the table

    def test_the_sitemap_lists_framework_pages(self, client, pytorch):
        make_comparison([pytorch, make_framework("TensorFlow")])
        make_framework("Lonely")
        body = client.get("/sitemap.xml").content.decode()
        assert framework_url(pytorch) in body
        assert "/frameworks/lonely/" not in body

    @pytest.mark.parametrize("comparisons", [3, 30])
    def test_queries_do_not_grow_with_the_comparisons_it_is_in(self, client, comparisons):
        pytorch = make_framework("PyTorch")
        for _ in range(comparisons):
            make_comparison([pytorch, make_framework()], factors=3, statistics=1)
        client.get(reverse("comparisons:home"))  # the cache's content version, read once
        with CaptureQueriesContext(connection) as captured:
            assert client.get(framework_url(pytorch)).status_code == 200
        assert len(captured) == 6
