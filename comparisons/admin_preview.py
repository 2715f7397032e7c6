"""The comparison admin's live Markdown preview: the public page's HTML for text being typed.

static/js/markdown-preview.js posts a rich-text field's text here as the editor
types and shows the answer beside the field. The answer comes from the very
function the public page uses (rich_text.render), so the preview cannot promise
what the page will not show. Without JavaScript nothing calls this.
"""

from django.http import HttpResponse, HttpResponseForbidden
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .templatetags.rich_text import render

# Far more than a verdict or a recommendation needs; bounds the work one request asks for.
PREVIEW_MAX_CHARS = 20_000


@never_cache
@require_POST
def markdown_preview(request):
    """POST ``text`` (with the CSRF token): the sanitised HTML fragment, or a plain-text refusal.

    403, not a redirect to the login page, for anyone who may not change
    comparisons: the caller is a script, which shows the refusal as it is.
    """
    if not (request.user.is_staff and request.user.has_perm("comparisons.change_comparison")):
        return HttpResponseForbidden(
            gettext("Preview unavailable: you may not edit comparisons."),
            content_type="text/plain",
        )
    text = request.POST.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return HttpResponse(
            gettext("Too long to preview: at most %(limit)s characters.")
            % {"limit": f"{PREVIEW_MAX_CHARS:,}"},
            status=413,
            content_type="text/plain",
        )
    return HttpResponse(render(text), content_type="text/html; charset=utf-8")
