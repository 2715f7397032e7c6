"""The seed page weighed by a reader: without JavaScript, from a shared address, cached."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comparisons.caching import _cached_query_params
from comparisons.demo import load_demo_content
from comparisons.models import Comparison
from tests.factories import make_comparison, make_framework
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

MOBILE_FIRST = "production-deployment:critical,edge-mobile:critical"


@pytest.fixture
def seed():
    load_demo_content()
    return Comparison.objects.get(slug="pytorch-vs-tensorflow")


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, len(captured)


class TestWeightedPage:
    def test_the_plain_page_says_how_close_it_is(self, client, seed):
        text = page_text(client.get(seed.get_absolute_url()))
        assert "PyTorch leads 3 to 2. Close call" in text
        assert (
            "TensorFlow would lead if Production Deployment counted for more: "
            "mark it as critical." in text
        )

    def test_production_and_mobile_critical_put_tensorflow_ahead(self, client, seed):
        response = client.get(f"{seed.get_absolute_url()}?w={MOBILE_FIRST}")
        assert response.status_code == 200
        text = page_text(response)
        assert "With your weights, TensorFlow leads 6 to 3." in text
        assert "TensorFlow 6 points, 2 factors won" in text
        body = response.content.decode()
        # The form shows the weights read; search engines are sent to the plain page.
        assert 'value="edge-mobile:critical" selected' in body
        assert '<meta name="robots" content="noindex">' in body
        plain_url = settings.SITE_URL + seed.get_absolute_url()
        assert f'<link rel="canonical" href="{plain_url}">' in body

    def test_the_form_without_javascript_redirects_to_the_short_address(self, client, seed):
        # A plain GET form sends one value per factor, normal ones too, in page order.
        values = [
            "developer-experience:normal",
            "research-adoption:normal",
            "production-deployment:critical",
            "edge-mobile:critical",
            "community-ecosystem:normal",
        ]
        response = client.get(seed.get_absolute_url(), {"w": values})
        assert response.status_code == 302
        assert response["Location"] == f"{seed.get_absolute_url()}?w={MOBILE_FIRST}"

    def test_another_order_of_the_same_weights_has_the_same_address(self, client, seed):
        response = client.get(
            seed.get_absolute_url(), {"w": "edge-mobile:critical,production-deployment:critical"}
        )
        assert response["Location"] == f"{seed.get_absolute_url()}?w={MOBILE_FIRST}"

    def test_all_normal_is_the_plain_page(self, client, seed):
        response = client.get(seed.get_absolute_url(), {"w": "edge-mobile:normal"})
        assert response["Location"] == seed.get_absolute_url()

    def test_unknown_weights_are_ignored_with_a_notice_and_not_cached(self, client, seed):
        response = client.get(seed.get_absolute_url(), {"w": "gpu:critical,edge-mobile:max"})
        assert response.status_code == 200
        text = page_text(response)
        assert "Some weights in this address were not understood and were ignored" in text
        assert "“gpu:critical” names no factor of this page; it was ignored." in text
        assert "PyTorch leads 3 to 2." in text
        assert "no-store" in response["Cache-Control"]

    def test_a_weighted_view_costs_no_more_queries_than_the_plain_page(self, client, seed):
        url = seed.get_absolute_url()
        client.get(reverse("comparisons:home"))  # the cache's content version, read once
        _, plain = queries(client, url)
        _, weighted = queries(client, f"{url}?w={MOBILE_FIRST}")
        assert weighted == plain
        # And the second visit comes from the page cache, like the plain page's.
        response, again = queries(client, f"{url}?w={MOBILE_FIRST}")
        assert again == 0 and "TensorFlow leads 6 to 3" in page_text(response)

    def test_repeated_values_never_share_another_view_s_cache_entry(self, client, seed):
        url = seed.get_absolute_url()
        client.get(url, {"w": "edge-mobile:critical"})  # cached
        response = client.get(url, {"w": ["gpu:critical", "edge-mobile:critical"]})
        assert "names no factor of this page" in page_text(response)

    def test_the_result_alone_for_the_script(self, client, seed):
        url = reverse("comparisons:result", args=[seed.slug])
        response = client.get(url, {"w": MOBILE_FIRST})
        assert response.status_code == 200
        assert "With your weights, TensorFlow leads 6 to 3." in page_text(response)
        assert response["X-Robots-Tag"] == "noindex"
        assert "<html" not in response.content.decode()
        # The script reads the one spelling from where it was redirected.
        redirected = client.get(url, {"w": ["edge-mobile:critical", "developer-experience:normal"]})
        assert redirected["Location"] == f"{url}?w=edge-mobile:critical"

    def test_a_draft_is_weighed_for_nobody_but_editors(self, client, editor):
        draft = make_comparison(published=False, factors=2)
        url = reverse("comparisons:result", args=[draft.slug])
        assert client.get(url).status_code == 404
        assert client.get(draft.get_absolute_url(), {"w": "factor-1:critical"}).status_code == 404
        client.force_login(editor)
        response = client.get(url, {"w": "factor-1:critical"})
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"]


def test_a_50_factor_4_way_page_weighs_in_as_many_queries_as_it_renders(client):
    frameworks = [make_framework(name) for name in ("A", "B", "C", "D")]
    comparison = make_comparison(frameworks, factors=50)
    url = comparison.get_absolute_url()
    client.get(reverse("comparisons:home"))  # the cache's content version, read once
    _, plain = queries(client, url)
    _, weighted = queries(client, f"{url}?w=factor-1:critical,factor-2:ignore,factor-50:important")
    assert weighted == plain


@pytest.mark.parametrize(
    ("address", "keyed_by"),
    [
        ("/compare/pytorch-vs-tensorflow/", ()),
        (f"/compare/pytorch-vs-tensorflow/?w={MOBILE_FIRST}", ("w",)),
        (f"/compare/pytorch-vs-tensorflow/decision.md?w={MOBILE_FIRST}", ("w",)),
        # Anything more than one weights value goes on to the view, which decides.
        ("/compare/pytorch-vs-tensorflow/?w=a:critical&w=b:ignore", None),
        ("/compare/pytorch-vs-tensorflow/?w=a:critical&utm_source=x", None),
        ("/compare/?f=pytorch&f=tensorflow", None),
        ("/?page=2", None),
        ("/search/?q=pytorch", None),
    ],
)
def test_the_cache_middleware_answers_plain_and_shared_weighted_addresses(address, keyed_by):
    """A shared weighted link is answered from the cache before the session or any
    other middleware, as the plain page is; the key is the view's own (w alone)."""
    assert _cached_query_params(RequestFactory().get(address)) == keyed_by
