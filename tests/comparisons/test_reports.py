"""Readers' "Is this still accurate?" reports: the public pages, the guards they share
with the booking form, the editors' queue, accepting and dismissing, and who sees it."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.urls import reverse, translate_url

from comparisons import reports
from comparisons.models import AccuracyReport, Comparison
from consultations.models import OutgoingEmail
from tests.consultations.helpers import rendered_token
from tests.factories import make_comparison, make_factor, make_statistic
from tests.support.admin_forms import change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:comparisons_accuracyreport_changelist")
COMPARISONS_URL = reverse("admin:comparisons_comparison_changelist")


def factor_url(comparison, factor):
    return reverse("comparisons:report_factor", args=[comparison.slug, factor.pk])


def statistic_url(comparison, statistic):
    return reverse("comparisons:report_statistic", args=[comparison.slug, statistic.pk])


def report_data(**overrides):
    data = {
        "text": "PyTorch 2.5 added this; the assessment is a year old.",
        "source_url": "https://pytorch.org/blog/release",
        "email": "reader@example.com",
        "website": "",
        "rendered": rendered_token(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def comparison():
    return make_comparison(factors=2, statistics=1)


@pytest.fixture
def factor(comparison):
    return comparison.factors.first()


def make_report(comparison, target=None, **fields):
    target = target or comparison.factors.first()
    fields.setdefault("text", "Out of date.")
    fields.setdefault("email", "reader@example.com")
    return reports.submit_report(comparison=comparison, target=target, **fields)


class TestPublicPage:
    def test_every_factor_and_statistic_links_to_its_report_page(self, client, comparison):
        body = client.get(comparison.get_absolute_url()).content.decode()
        for factor in comparison.factors.all():
            assert f'href="{factor_url(comparison, factor)}"' in body
        statistic = comparison.statistics.get()
        assert f'href="{statistic_url(comparison, statistic)}"' in body
        # The cached page holds links only: no form, no token that could be shared.
        assert "csrfmiddlewaretoken" not in body
        assert 'name="rendered"' not in body

    def test_the_comparison_page_keeps_its_query_count(
        self, client, comparison, django_assert_max_num_queries
    ):
        for position in range(3, 12):
            make_factor(comparison, position=position)
        # The page's own, the cache's version, and its (here empty) related comparisons.
        with django_assert_max_num_queries(7):
            client.get(comparison.get_absolute_url())

    def test_the_report_page_shows_the_claim_and_is_never_cached(self, client, comparison, factor):
        response = client.get(factor_url(comparison, factor))
        assert response.status_code == 200
        text = page_text(response)
        assert f"The factor “{factor.name}”" in text
        for assessment in factor.assessments.all():
            assert assessment.text in text
        assert "no-store" in response["Cache-Control"]
        assert 'name="csrfmiddlewaretoken"' in response.content.decode()

    def test_a_statistic_page_shows_its_source(self, client, comparison):
        statistic = comparison.statistics.get()
        text = page_text(client.get(statistic_url(comparison, statistic)))
        assert "The statistic “42%”" in text and "of teams surveyed use it" in text
        assert "Example Survey (2026)" in text

    def test_unknown_unpublished_and_hidden_targets_are_404(self, client, comparison, factor):
        other = make_comparison(factors=1)
        draft = make_comparison(factors=1, published=False)
        incomplete = make_statistic(comparison, source_url="")
        assert client.get(factor_url(other, factor)).status_code == 404
        assert client.get(factor_url(draft, draft.factors.get())).status_code == 404
        assert client.get(statistic_url(comparison, incomplete)).status_code == 404
        missing = reverse("comparisons:report_factor", args=[comparison.slug, 999999])
        assert client.get(missing).status_code == 404
        assert client.post(factor_url(draft, draft.factors.get()), report_data()).status_code == 404


class TestSending:
    def test_a_valid_report_is_saved_and_redirects_to_thanks(self, client, comparison, factor):
        url = factor_url(comparison, factor)
        response = client.post(url, report_data(), REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 302
        assert response["Location"] == reverse("comparisons:report_thanks", args=[comparison.slug])
        report = AccuracyReport.objects.get()
        assert (report.factor, report.statistic, report.target) == (factor, None, "factor")
        assert report.status == AccuracyReport.Status.OPEN
        assert report.client_ip == "10.0.0.7"
        assert report.target_label == f"Factor “{factor.name}”"
        thanks = client.get(response["Location"])
        assert "Thank you for your report" in page_text(thanks)
        assert "PyTorch 2.5" not in page_text(thanks)

    def test_nothing_from_a_report_reaches_the_public_page(self, client, comparison, factor):
        client.post(factor_url(comparison, factor), report_data(text="SECRET-REPORT-TEXT"))
        assert AccuracyReport.objects.exists()
        cache.clear()
        page = client.get(comparison.get_absolute_url())
        assert "SECRET-REPORT-TEXT" not in page.content.decode()

    def test_a_statistic_report(self, client, comparison):
        statistic = comparison.statistics.get()
        client.post(statistic_url(comparison, statistic), report_data(email="", source_url=""))
        report = AccuracyReport.objects.get()
        assert (report.statistic, report.factor, report.email) == (statistic, None, "")

    def test_each_form_shown_sends_once(self, client, comparison, factor):
        data = report_data()
        client.post(factor_url(comparison, factor), data)
        again = client.post(factor_url(comparison, factor), data)
        assert again.status_code == 400
        assert "This form has already been sent once" in page_text(again)
        assert AccuracyReport.objects.count() == 1


def refused(response):
    assert response.status_code in (400, 429), response.status_code
    assert not AccuracyReport.objects.exists()
    return page_text(response)


class TestHostileInput:
    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("text", "Out of date\u202e", "invisible formatting character (U+202E"),
            ("text", "Out\x07 of date", "invisible control character (U+0007)"),
            ("text", "Out\x00 of date", "Null characters are not allowed"),
            ("text", "x" * 2001, "at most 2000 characters"),
            ("text", "   ", "Tell us what is wrong or out of date."),
            ("source_url", "javascript:alert(1)", "Enter a full web address"),
            ("source_url", "ftp://example.org/file", "must start with http:// or https://"),
            ("source_url", "https://exa\u202emple.org/", "invisible formatting character"),
            ("source_url", "https://example.org/" + "a" * 500, "at most 500 characters"),
            ("email", "not-an-address", "Enter an email address such as ada@example.com"),
            ("email", '"ada"@example.com', "without quotation marks"),
            ("email", "=?utf-8?q?x?=@example.com", "“=?”"),
        ],
    )
    def test_refused_with_a_message_and_input_kept(
        self, client, comparison, factor, field, value, message
    ):
        data = report_data(**{field: value})
        response = client.post(factor_url(comparison, factor), data)
        text = refused(response)
        assert message in text
        assert "Your report was not sent." in text
        body = response.content.decode()
        assert 'role="alert"' in body
        # The summary links to the field in question, and nothing typed is lost.
        assert f'href="#id_{field}"' in body
        if field != "text":
            assert "PyTorch 2.5 added this" in text

    def test_honeypot_and_forged_or_fast_tokens_are_dropped_silently(
        self, client, comparison, factor
    ):
        thanks = reverse("comparisons:report_thanks", args=[comparison.slug])
        for overrides in (
            {"website": "https://spam.example"},
            {"rendered": "12345:abc:forged"},
            {"rendered": rendered_token(seconds_ago=1)},
        ):
            response = client.post(factor_url(comparison, factor), report_data(**overrides))
            assert response.status_code == 302 and response["Location"] == thanks
        assert not AccuracyReport.objects.exists()

    def test_an_expired_form_is_sent_again_with_input_kept(self, client, comparison, factor):
        old_form = report_data(rendered=rendered_token(seconds_ago=5 * 3600))
        response = client.post(factor_url(comparison, factor), old_form)
        text = refused(response)
        assert "This form was open for more than 4 hours" in text
        assert "PyTorch 2.5 added this" in text

    @override_settings(ACCURACY_REPORTS_PER_IP_HOUR=2)
    def test_rate_limit_per_client_address(self, client, comparison, factor):
        for _ in range(2):
            response = client.post(factor_url(comparison, factor), report_data())
            assert response.status_code == 302
        response = client.post(factor_url(comparison, factor), report_data())
        assert response.status_code == 429
        assert "Too many reports from your network this hour" in page_text(response)
        assert AccuracyReport.objects.count() == 2
        # Another address is not held back.
        other = client.post(factor_url(comparison, factor), report_data(), REMOTE_ADDR="10.9.9.9")
        assert other.status_code == 302

    @override_settings(ACCURACY_REPORTS_PER_IP_HOUR=1)
    def test_rate_limit_counts_in_the_database_when_the_cache_is_down(
        self, client, comparison, factor, cache_down
    ):
        assert client.post(factor_url(comparison, factor), report_data()).status_code == 302
        response = client.post(factor_url(comparison, factor), report_data())
        assert response.status_code == 429

    def test_missing_csrf_token_is_refused(self, comparison, factor):
        csrf_client = Client(enforce_csrf_checks=True)
        response = csrf_client.post(factor_url(comparison, factor), report_data())
        assert response.status_code == 403
        assert "CSRF verification failed" in page_text(response)
        assert not AccuracyReport.objects.exists()

    def test_with_the_csrf_token_it_works(self, comparison, factor):
        csrf_client = Client(enforce_csrf_checks=True)
        page = csrf_client.get(factor_url(comparison, factor)).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        response = csrf_client.post(
            factor_url(comparison, factor), report_data(csrfmiddlewaretoken=token)
        )
        assert response.status_code == 302


class TestModel:
    def test_exactly_one_target_is_enforced_by_the_database(self, comparison, factor):
        statistic = comparison.statistics.get()
        base = {"comparison": comparison, "target_label": "x", "text": "y"}
        for fields in (
            {"target": "factor", "factor": factor, "statistic": statistic},
            {"target": "statistic", "factor": factor},
            {"target": "nonsense"},
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                AccuracyReport.objects.create(**base, **fields)

    def test_status_and_resolution_time_agree(self, comparison, factor):
        base = {"comparison": comparison, "target": "factor", "target_label": "x", "text": "y"}
        for fields in ({"status": "bogus"}, {"status": "accepted"}):
            with pytest.raises(IntegrityError), transaction.atomic():
                AccuracyReport.objects.create(**base, **fields)

    def test_deleting_the_factor_keeps_the_report(self, client, editor, comparison, factor):
        report = make_report(comparison, factor)
        factor.delete()
        report.refresh_from_db()
        assert report.factor is None and report.target_object is None
        client.force_login(editor)
        text = page_text(client.get(QUEUE_URL))
        assert f"{report.target_label} (since removed)" in text


class TestResolving:
    def test_accepting_marks_the_comparison_as_needing_review_until_reviewed(
        self, editor, comparison, factor
    ):
        comparison.mark_reviewed(by=editor)
        report = make_report(comparison, factor)
        assert not Comparison.objects.needs_review().filter(pk=comparison.pk).exists()

        reports.resolve_report(report_pk=report.pk, status="accepted", by=editor)

        comparison.refresh_from_db()
        assert comparison.review_requested
        assert comparison.needs_review()
        assert Comparison.objects.needs_review().filter(pk=comparison.pk).exists()
        assert Comparison.objects.review_requested().filter(pk=comparison.pk).exists()

        comparison.mark_reviewed(by=editor)
        assert not comparison.review_requested and not comparison.needs_review()
        assert not Comparison.objects.needs_review().filter(pk=comparison.pk).exists()

    def test_dismissing_asks_for_no_review(self, editor, comparison, factor):
        comparison.mark_reviewed(by=editor)
        report = make_report(comparison, factor)
        reports.resolve_report(report_pk=report.pk, status="dismissed", by=editor)
        comparison.refresh_from_db()
        assert comparison.review_requested_at is None and not comparison.needs_review()

    def test_one_reply_is_queued_once_and_the_address_erased(self, editor, comparison, factor):
        report = make_report(comparison, factor, client_ip="10.0.0.1")
        first = reports.resolve_report(report_pk=report.pk, status="accepted", by=editor)
        second = reports.resolve_report(report_pk=report.pk, status="dismissed", by=editor)
        assert first.status == "accepted" and second is None
        assert (first.email, first.client_ip, first.resolved_by) == ("", None, editor)
        assert first.resolved_at is not None
        email = OutgoingEmail.objects.get()
        assert email.to == "reader@example.com"
        assert comparison.title in email.subject
        assert "marked for review" in email.body and comparison.get_absolute_url() in email.body

    def test_no_email_no_reply(self, editor, comparison, factor):
        report = make_report(comparison, factor, email="")
        reports.resolve_report(report_pk=report.pk, status="dismissed", by=editor)
        assert not OutgoingEmail.objects.exists()

    def test_the_reply_is_plain_text_and_its_subject_one_line(self, editor, factor):
        comparison = make_comparison(factors=1, title="A & <B>\nBcc: x@evil.example")
        report = make_report(comparison, comparison.factors.get())
        reports.resolve_report(report_pk=report.pk, status="dismissed", by=editor)
        email = OutgoingEmail.objects.get()
        assert "\n" not in email.subject and "&amp;" not in email.subject
        assert "A & <B>" in email.body


class TestReplyLanguage:
    """The reply to a reader is in the language of the page they reported from,
    whatever language the editor resolving it works in."""

    def file_and_accept(self, client, editor, url):
        assert client.post(url, report_data()).status_code == 302
        report = AccuracyReport.objects.get()
        client.force_login(editor)
        assert client.post(change_url(report), {"_accept": "Accept"}).status_code == 302
        return report, OutgoingEmail.objects.get()

    def test_a_report_from_a_german_page_is_answered_in_german(self, client, editor, factor):
        comparison = factor.comparison
        comparison.title_de = "Vergleich auf Deutsch"
        comparison.translations_published = ["de"]
        comparison.save()
        url = translate_url(factor_url(comparison, factor), "de")
        assert url.startswith("/de/")

        report, email = self.file_and_accept(client, editor, url)

        assert report.language == "de"
        assert email.subject == "Ihre Meldung zu Vergleich auf Deutsch: wir prüfen die Seite"
        assert email.body.startswith("Guten Tag,")
        assert "Die Seite ist nun zur Prüfung markiert" in email.body
        assert f"/de{comparison.get_absolute_url()}" in email.body
        assert "marked for review" not in email.body

    def test_a_report_from_an_english_page_is_answered_in_english(self, client, editor, factor):
        comparison = factor.comparison
        report, email = self.file_and_accept(client, editor, factor_url(comparison, factor))

        assert report.language == "en"
        assert email.subject == f"Your report on {comparison.title}: we will review the page"
        assert email.body.startswith("Hello,")
        assert "marked for review" in email.body
        assert f"/de{comparison.get_absolute_url()}" not in email.body


class TestQueue:
    def test_editor_sees_the_queue_with_links_and_filters(self, client, editor, comparison):
        factor = comparison.factors.order_by("position")[1]
        statistic = comparison.statistics.get()
        make_report(comparison, factor)
        make_report(comparison, statistic)
        client.force_login(editor)
        response = client.get(QUEUE_URL, {"status__exact": "open"})
        assert response.status_code == 200
        body = response.content.decode()
        assert f'href="{change_url(comparison)}#factors-1"' in body
        assert f'href="{change_url(comparison)}#statistics-0"' in body
        assert f'href="{comparison.get_absolute_url()}#factor-{factor.pk}"' in body
        assert f'href="{comparison.get_absolute_url()}#statistic-{statistic.pk}"' in body

    def test_the_queue_query_count_does_not_grow_with_reports(
        self, client, editor, comparison, django_assert_max_num_queries
    ):
        client.force_login(editor)
        for _ in range(3):
            make_report(comparison)
        with django_assert_max_num_queries(12) as few:
            client.get(QUEUE_URL)
        for _ in range(20):
            make_report(make_comparison(factors=1))
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(QUEUE_URL)

    def test_accept_action_and_comparison_list(self, client, editor, comparison, factor):
        report = make_report(comparison, factor)
        make_report(comparison, factor)
        client.force_login(editor)
        listing = page_text(client.get(COMPARISONS_URL))
        assert "open reports" in listing.lower()
        client.post(QUEUE_URL, {"action": "accept", "_selected_action": [report.pk]})
        report.refresh_from_db()
        assert report.status == "accepted"
        listing = client.get(COMPARISONS_URL)
        assert "Needs review: Reader report accepted" in page_text(listing)
        assert f"comparison__id__exact={comparison.pk}&amp;status__exact=open" in (
            listing.content.decode()
        )
        filtered = client.get(COMPARISONS_URL, {"review": "reported"})
        assert list(filtered.context["cl"].result_list) == [comparison]

    def test_the_open_count_costs_no_query_per_comparison(
        self, client, editor, django_assert_max_num_queries
    ):
        client.force_login(editor)
        first = make_comparison(factors=1)
        make_report(first)
        with django_assert_max_num_queries(20) as few:
            client.get(COMPARISONS_URL)
        for _ in range(10):
            make_report(make_comparison(factors=1))
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(COMPARISONS_URL)
        assert [c.open_reports_count for c in response.context["cl"].result_list] == [1] * 11

    def test_buttons_on_the_report_page(self, client, editor, comparison, factor):
        report = make_report(comparison, factor)
        client.force_login(editor)
        page = client.get(change_url(report))
        assert 'name="_dismiss"' in page.content.decode()
        response = client.post(change_url(report), {"_dismiss": "Dismiss"})
        assert response.status_code == 302
        report.refresh_from_db()
        assert report.status == "dismissed"
        assert OutgoingEmail.objects.count() == 1
        # Resolved: the buttons are gone, and a second POST changes nothing.
        assert 'name="_accept"' not in client.get(change_url(report)).content.decode()
        client.post(change_url(report), {"_accept": "Accept"})
        report.refresh_from_db()
        assert report.status == "dismissed" and OutgoingEmail.objects.count() == 1

    def test_reports_cannot_be_added_in_the_admin(self, client, editor):
        client.force_login(editor)
        add = reverse("admin:comparisons_accuracyreport_add")
        assert client.get(add).status_code == 403


class TestWhoSeesTheQueue:
    def test_editors_group_holds_view_and_change_only(self):
        codenames = set(
            Group.objects.get(name="Editors")
            .permissions.filter(content_type__model="accuracyreport")
            .values_list("codename", flat=True)
        )
        assert codenames == {"view_accuracyreport", "change_accuracyreport"}
        assert not Group.objects.get(name="Triage").permissions.filter(
            content_type__model="accuracyreport"
        )

    def test_triager_gets_403_and_no_entry_in_the_admin_index(
        self, client, triager, comparison, factor
    ):
        report = make_report(comparison, factor)
        client.force_login(triager)
        assert client.get(QUEUE_URL).status_code == 403
        assert client.get(change_url(report)).status_code == 403
        client.post(QUEUE_URL, {"action": "accept", "_selected_action": [report.pk]})
        report.refresh_from_db()
        assert report.is_open
        index = client.get(reverse("admin:index")).content.decode()
        assert QUEUE_URL not in index and "Reader reports" not in index

    def test_editor_sees_it_in_the_admin_index(self, client, editor):
        client.force_login(editor)
        index = client.get(reverse("admin:index")).content.decode()
        assert QUEUE_URL in index and "Reader reports" in index
