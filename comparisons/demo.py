"""The demo content: the seed page "PyTorch vs TensorFlow", word for word, and
its German edition (GERMAN), written for German readers rather than word for word.

The seed gives its three figures without descriptions or sources. They are
loaded as they are, incomplete, so that they stay off the public page and the
admin lists them as needing a source. Nothing is invented to fill the gaps:
the seed names no version of either framework ("2.x" in an assessment is
TensorFlow's history, not the version compared), so none is set.
"""

import reversion
from django.db import transaction
from django.utils import timezone

from .models import Assessment, Comparison, Factor, Framework, Participant, Statistic
from .translation import column, record_sources

FRAMEWORKS = {
    "pytorch": {
        "name": "PyTorch",
        "description": "An open-source deep learning framework.",
        "website": "https://pytorch.org",
    },
    "tensorflow": {
        "name": "TensorFlow",
        "description": "An open-source machine learning platform.",
        "website": "https://www.tensorflow.org",
    },
}

SEED = {
    "slug": "pytorch-vs-tensorflow",
    "title": "PyTorch vs TensorFlow: Which Deep Learning Framework in 2026",
    "subtitle": (
        "Compare PyTorch and TensorFlow for AI development. Performance, ecosystem, and deployment."
    ),
    "category": "Technology",
    "meta_description": (
        "Compare PyTorch and TensorFlow for AI development. Performance, ecosystem, and deployment."
    ),
    "quick_verdict": (
        "PyTorch wins for research and DX. "
        "TensorFlow remains strong for production and edge deployment."
    ),
    "recommendation": (
        "PyTorch wins for research and DX. "
        "TensorFlow remains strong for production and edge deployment."
    ),
    "participants": [
        (
            "pytorch",
            True,
            [
                "Research and academic projects",
                "Rapid prototyping",
                "Working with HuggingFace models",
                "Teams prioritizing developer experience",
            ],
        ),
        (
            "tensorflow",
            False,
            [
                "Mobile and edge deployment",
                "Existing TensorFlow infrastructure",
                "Production systems requiring TF Serving",
                "Browser-based ML with TF.js",
            ],
        ),
    ],
    # (factor, winner slug, PyTorch's assessment, TensorFlow's assessment)
    "factors": [
        (
            "Developer Experience",
            "pytorch",
            "Pythonic, intuitive eager execution, easy debugging",
            "Improved with 2.x but more verbose, Keras simplifies",
        ),
        (
            "Research Adoption",
            "pytorch",
            "Dominant in academia, 80%+ of new papers",
            "Declining in research, stronger in applied ML",
        ),
        (
            "Production Deployment",
            "tensorflow",
            "TorchServe improving but historically weaker",
            "TF Serving, TFLite, TF.js — mature ecosystem",
        ),
        (
            "Edge Mobile",
            "tensorflow",
            "PyTorch Mobile, ExecuTorch for on-device",
            "TFLite is industry standard for mobile/edge",
        ),
        (
            "Community Ecosystem",
            "pytorch",
            "HuggingFace default, massive open-source ecosystem",
            "Large ecosystem but momentum shifting away",
        ),
    ],
    # The seed shows only the value and the year: no description, no source.
    "statistics": [("78%", 2026), ("2.5M+", 2026), ("40%", 2026)],
}


# The German edition, field by field (comparisons/translation.py says what is
# translated). The seed's statistics have no description or source to translate.
GERMAN = {
    "frameworks": {
        "pytorch": {"description": "Ein quelloffenes Framework für Deep Learning."},
        "tensorflow": {"description": "Eine quelloffene Plattform für maschinelles Lernen."},
    },
    "comparison": {
        "title": "PyTorch oder TensorFlow: Welches Deep-Learning-Framework 2026?",
        "subtitle": (
            "PyTorch und TensorFlow für die KI-Entwicklung im Vergleich: Leistung, "
            "Ökosystem und Deployment."
        ),
        "category": "Technologie",
        "meta_description": (
            "PyTorch und TensorFlow für die KI-Entwicklung im Vergleich: Leistung, "
            "Ökosystem und Deployment."
        ),
        "quick_verdict": (
            "In der Forschung und beim Entwicklungskomfort liegt PyTorch vorn. "
            "TensorFlow bleibt stark im Produktivbetrieb und auf Edge-Geräten."
        ),
        "recommendation": (
            "In der Forschung und beim Entwicklungskomfort liegt PyTorch vorn. "
            "TensorFlow bleibt stark im Produktivbetrieb und auf Edge-Geräten."
        ),
    },
    "choose_when": {
        "pytorch": [
            "Forschungsprojekte an Hochschulen und Instituten",
            "Schnelles Prototyping",
            "Arbeit mit Modellen von HuggingFace",
            "Teams, denen ein angenehmer Entwicklungsalltag wichtig ist",
        ],
        "tensorflow": [
            "Einsatz auf Mobil- und Edge-Geräten",
            "Bestehende TensorFlow-Infrastruktur",
            "Produktivsysteme, die TF Serving brauchen",
            "Maschinelles Lernen im Browser mit TF.js",
        ],
    },
    # (factor, PyTorch's assessment, TensorFlow's assessment), in the seed's order.
    "factors": [
        (
            "Entwicklungskomfort",
            "Pythonisch, intuitive Eager Execution, leicht zu debuggen",
            "Seit 2.x besser, aber umständlicher; Keras macht es einfacher",
        ),
        (
            "Verbreitung in der Forschung",
            "Führend in der Wissenschaft, über 80 % der neuen Veröffentlichungen",
            "In der Forschung rückläufig, stärker im angewandten maschinellen Lernen",
        ),
        (
            "Produktivbetrieb",
            "TorchServe holt auf, war aber lange die schwächere Wahl",
            "TF Serving, TFLite, TF.js – ein ausgereiftes Ökosystem",
        ),
        (
            "Edge und Mobilgeräte",
            "PyTorch Mobile und ExecuTorch für Modelle direkt auf dem Gerät",
            "TFLite ist der Industriestandard für Mobil- und Edge-Geräte",
        ),
        (
            "Community und Ökosystem",
            "Standard bei HuggingFace, riesiges Open-Source-Ökosystem",
            "Großes Ökosystem, doch die Dynamik geht zurück",
        ),
    ],
}
GERMAN_LANGUAGE = "de"


@transaction.atomic
def load_demo_content():
    """Create the seed comparison unless it exists. Returns True if it was created."""
    frameworks = {}
    for slug, fields in FRAMEWORKS.items():
        frameworks[slug], _ = Framework.objects.get_or_create(slug=slug, defaults=fields)

    existing = Comparison.objects.filter(slug=SEED["slug"]).first()
    if existing is not None:
        # A demo loaded before the German edition existed gets it now, once.
        if not existing.title_de:
            with reversion.create_revision():
                reversion.set_comment("German edition of the demo content loaded.")
                _translate_seed(existing, frameworks)
        return False

    with reversion.create_revision():
        reversion.set_comment("Demo content loaded.")
        comparison = _create_seed(frameworks)
        _translate_seed(comparison, frameworks)
    comparison.refresh_content_dates()
    return True


def _set_german(instance, texts):
    """Write ``texts`` (field -> German text) and note what they translate."""
    for field, text in texts.items():
        setattr(instance, column(field, GERMAN_LANGUAGE), text)
    record_sources(instance, GERMAN_LANGUAGE)
    instance.save()


def _translate_seed(comparison, frameworks):
    """The German edition of the seed comparison, published."""
    for slug, texts in GERMAN["frameworks"].items():
        if not getattr(frameworks[slug], column("description", GERMAN_LANGUAGE)):
            _set_german(frameworks[slug], texts)
    _set_german(comparison, GERMAN["comparison"])
    participants = {
        p.framework.slug: p for p in comparison.participants.select_related("framework")
    }
    for slug, reasons in GERMAN["choose_when"].items():
        _set_german(participants[slug], {"choose_when": "\n".join(reasons)})
    factors = list(comparison.factors.prefetch_related("assessments__participant__framework"))
    for factor, (name, *texts) in zip(factors, GERMAN["factors"], strict=True):
        _set_german(factor, {"name": name})
        by_framework = {a.participant.framework.slug: a for a in factor.assessments.all()}
        for slug, text in zip(("pytorch", "tensorflow"), texts, strict=True):
            _set_german(by_framework[slug], {"text": text})
    comparison.translations_published = sorted({*comparison.translations_published, "de"})
    comparison.save(update_fields=["translations_published"])


def _create_seed(frameworks):
    comparison = Comparison.objects.create(
        slug=SEED["slug"],
        title=SEED["title"],
        subtitle=SEED["subtitle"],
        category=SEED["category"],
        meta_description=SEED["meta_description"],
        quick_verdict=SEED["quick_verdict"],
        recommendation=SEED["recommendation"],
        status=Comparison.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    participants = {}
    for position, (slug, recommended, reasons) in enumerate(SEED["participants"], start=1):
        participants[slug] = Participant.objects.create(
            comparison=comparison,
            framework=frameworks[slug],
            position=position,
            is_recommended=recommended,
            choose_when="\n".join(reasons),
        )
    for position, (name, winner, *texts) in enumerate(SEED["factors"], start=1):
        factor = Factor.objects.create(
            comparison=comparison, position=position, name=name, winner=participants[winner]
        )
        for slug, text in zip(("pytorch", "tensorflow"), texts, strict=True):
            Assessment.objects.create(factor=factor, participant=participants[slug], text=text)
    for position, (value, year) in enumerate(SEED["statistics"], start=1):
        Statistic.objects.create(comparison=comparison, position=position, value=value, year=year)
    return comparison
