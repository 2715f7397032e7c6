"""The demo content: the seed page "PyTorch vs TensorFlow", word for word.

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


@transaction.atomic
def load_demo_content():
    """Create the seed comparison unless it exists. Returns True if it was created."""
    frameworks = {}
    for slug, fields in FRAMEWORKS.items():
        frameworks[slug], _ = Framework.objects.get_or_create(slug=slug, defaults=fields)

    if Comparison.objects.filter(slug=SEED["slug"]).exists():
        return False

    with reversion.create_revision():
        reversion.set_comment("Demo content loaded.")
        comparison = _create_seed(frameworks)
    comparison.refresh_content_dates()
    return True


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
