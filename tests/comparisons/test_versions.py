"""Which version of each framework was compared, and as of when: set in the admin,
read beside the name, in the structured data and in the page's history."""

import hashlib
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from reversion.models import Version

from comparisons.history import Snapshot, changes_between
from comparisons.models import Comparison, Participant
from tests.comparisons.test_seo import json_ld
from tests.factories import make_comparison, make_framework
from tests.support.admin_forms import change_form_data, change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db


def pytorch_and_tensorflow(**fields):
    comparison = make_comparison(
        [make_framework("PyTorch"), make_framework("TensorFlow")], factors=2, **fields
    )
    return comparison, list(comparison.participants.select_related("framework"))


def set_version(participant, version="", as_of=None):
    Participant.objects.filter(pk=participant.pk).update(version=version, version_as_of=as_of)


class TestLabel:
    @pytest.mark.parametrize(
        ("version", "as_of", "label", "full"),
        [
            ("2.10", date(2026, 3, 15), "2.10, as of March 2026", "PyTorch 2.10, as of March 2026"),
            ("2.10", None, "2.10", "PyTorch 2.10"),
            ("", date(2026, 3, 15), "as of March 2026", "PyTorch, as of March 2026"),
            ("", None, "", "PyTorch"),
        ],
    )
    def test_only_the_parts_that_are_set(self, version, as_of, label, full):
        participant = Participant(
            framework=make_framework("PyTorch"), version=version, version_as_of=as_of
        )
        assert participant.version_label() == label
        assert participant.name_with_version() == full

    def test_a_version_with_an_invisible_character_is_refused(self):
        comparison, (pytorch, _) = pytorch_and_tensorflow()
        pytorch.version = "2.10\u202e"
        with pytest.raises(ValidationError) as error:
            pytorch.full_clean()
        assert error.value.error_dict["version"][0].code == "disguising_character"


class TestAdmin:
    def test_the_editor_sets_a_version_and_a_date_on_the_comparison_page(self, admin_client):
        comparison, (pytorch, _) = pytorch_and_tensorflow()
        form = admin_client.get(change_url(comparison)).content.decode()
        assert 'name="participants-0-version"' in form
        assert 'name="participants-0-version_as_of"' in form

        data = change_form_data(comparison)
        data["participants-0-version"] = "2.10"
        data["participants-0-version_as_of"] = "2026-03-15"
        response = admin_client.post(change_url(comparison), data)

        assert response.status_code == 302
        pytorch.refresh_from_db()
        assert (pytorch.version, pytorch.version_as_of) == ("2.10", date(2026, 3, 15))


class TestPage:
    def test_the_version_shows_beside_the_name_with_only_its_set_parts(self, client):
        comparison, (pytorch, tensorflow) = pytorch_and_tensorflow()
        set_version(pytorch, "2.10", date(2026, 3, 15))
        set_version(tensorflow, as_of=date(2026, 2, 1))
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "PyTorch 2.10, as of March 2026 1 of 2 factors won" in text
        assert "TensorFlow, as of February 2026 1 of 2 factors won" in text

    def test_without_a_version_the_name_stands_alone(self, client):
        comparison, _ = pytorch_and_tensorflow()
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "PyTorch 1 of 2 factors won" in text
        # No version words beside a name (the print line's "the page as of" is the page's).
        assert ", as of" not in text

    def test_a_version_typed_as_html_stays_text(self, client):
        comparison, (pytorch, _) = pytorch_and_tensorflow()
        set_version(pytorch, "<b>2</b>")
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert "&lt;b&gt;2&lt;/b&gt;" in body and "<b>2</b>" not in body


class TestStructuredData:
    def test_each_framework_says_its_version_and_as_of_in_words(self, client):
        comparison, (pytorch, tensorflow) = pytorch_and_tensorflow()
        set_version(pytorch, "2.10", date(2026, 3, 15))
        set_version(tensorflow, as_of=date(2026, 2, 1))
        (data,) = json_ld(client.get(comparison.get_absolute_url()))
        pytorch_data, tensorflow_data = data["about"]
        assert pytorch_data["softwareVersion"] == "2.10"
        assert pytorch_data["disambiguatingDescription"] == "PyTorch 2.10, as of March 2026"
        assert "softwareVersion" not in tensorflow_data
        assert tensorflow_data["disambiguatingDescription"] == "TensorFlow, as of February 2026"
        # The as-of date is not the software's modification date.
        assert "dateModified" not in pytorch_data

    def test_without_a_version_the_items_are_as_before(self, client):
        comparison, _ = pytorch_and_tensorflow()
        (data,) = json_ld(client.get(comparison.get_absolute_url()))
        assert [sorted(item) for item in data["about"]] == [
            ["@type", "applicationCategory", "name"],
            ["@type", "applicationCategory", "name"],
        ]


def fingerprint(comparison):
    return hashlib.sha256(comparison.content_text(visible_only=True).encode()).hexdigest()


class TestHistory:
    def test_without_a_version_the_fingerprinted_text_is_unchanged(self):
        comparison, _ = pytorch_and_tensorflow()
        text = comparison.content_text(visible_only=True)
        assert "Frameworks:\n- PyTorch\n- TensorFlow\n\nFactors:\n" in text
        assert "Version" not in text and "As of" not in text

    def test_a_fingerprint_stored_before_versions_existed_stays_valid(self, admin_client):
        comparison, _ = pytorch_and_tensorflow()
        comparison.refresh_content_dates()
        stored = Comparison.objects.get(pk=comparison.pk).content_fingerprint
        admin_client.post(change_url(comparison), change_form_data(comparison))
        comparison.refresh_from_db()
        assert comparison.content_fingerprint == stored == fingerprint(comparison)
        assert comparison.content_updated_at is None

    def test_setting_a_version_is_a_content_change(self, admin_client):
        comparison, _ = pytorch_and_tensorflow()
        admin_client.post(change_url(comparison), change_form_data(comparison))
        data = change_form_data(comparison)
        data["participants-0-version"] = "2.10"
        data["participants-0-version_as_of"] = "2026-03-15"
        admin_client.post(change_url(comparison), data)
        comparison.refresh_from_db()
        assert comparison.content_updated_at is not None
        text = comparison.content_text(visible_only=True)
        assert "- PyTorch\n  Version: 2.10\n  As of: 2026-03-15\n" in text

    def test_the_diff_shows_a_version_set_changed_and_cleared(self, admin_client):
        comparison, (pytorch, tensorflow) = pytorch_and_tensorflow()
        set_version(tensorflow, "2.15")
        admin_client.post(change_url(comparison), change_form_data(comparison))
        before = Version.objects.get_for_object(comparison).first()
        set_version(pytorch, "2.10", date(2026, 3, 15))
        set_version(tensorflow, "2.16")
        middle = Snapshot.of_page(comparison)
        lines = [
            str(change)
            for section in changes_between(Snapshot.of_version(before), middle)
            for change in section.changes
        ]
        assert lines == [
            'Added: Framework "PyTorch": version: 2.10',
            'Added: Framework "PyTorch": as of: 2026-03-15',
            'Framework "TensorFlow": version: 2.15 → 2.16',
        ]
        set_version(pytorch)
        after = Snapshot.of_page(Comparison.objects.get(pk=comparison.pk))
        lines = [str(c) for s in changes_between(middle, after) for c in s.changes]
        assert lines == [
            'Removed: Framework "PyTorch": version: 2.10',
            'Removed: Framework "PyTorch": as of: 2026-03-15',
        ]

    def test_a_version_stored_before_versions_existed_reads_as_no_version(self, admin_client):
        """Old revisions hold participants without these fields: they read as unset."""
        comparison, (pytorch, _) = pytorch_and_tensorflow()
        admin_client.post(change_url(comparison), change_form_data(comparison))
        version = Version.objects.get_for_object(pytorch).first()
        stored = version.serialized_data.replace(', "version": ""', "").replace(
            ', "version_as_of": null', ""
        )
        assert '"version"' not in stored
        Version.objects.filter(pk=version.pk).update(serialized_data=stored)
        comparison_version = Version.objects.get_for_object(comparison).first()
        participants = Snapshot.of_version(comparison_version).participants
        assert [(p.version, p.version_as_of) for p in participants] == [("", None), ("", None)]
