"""Checks that tools nobody here wrote make on pages: axe-core and the Nu HTML Checker."""

import json
import shutil
import subprocess

from .conftest import AXE_JS, VNU_JAR


def axe_violations(page):
    """Run axe-core on the page as it is now; the page's context must bypass the CSP."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("async () => (await axe.run(document)).violations")


def describe_violations(violations, where):
    """One readable paragraph per violation: rule, impact, help and each offending node."""
    lines = []
    for violation in violations:
        lines.append(
            f"[{where}] {violation['id']} ({violation['impact']}): {violation['help']}"
            f" - {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return lines


def html_errors(html):
    """The Nu HTML Checker's errors for one document, as readable lines (empty when valid)."""
    result = subprocess.run(  # noqa: S603 - fixed arguments, the page comes on stdin
        [
            shutil.which("java"),
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            "--stdout",
            "-",
        ],
        input=html.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    try:
        messages = json.loads(result.stdout)["messages"]
    except (ValueError, KeyError):
        raise AssertionError(
            f"The Nu HTML Checker gave no report (exit {result.returncode}): "
            f"{result.stdout[:500]!r} {result.stderr[:500]!r}"
        ) from None
    return [
        f"line {message.get('lastLine', '?')}: {message['message']}"
        f" near {message.get('extract', '').strip()!r}"
        for message in messages
        if message["type"] in ("error", "non-document-error")
    ]
