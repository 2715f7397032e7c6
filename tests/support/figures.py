"""Figures that tests report (inputs tried, requests kept...), printed at the end of the run."""

FIGURES = {}


def record(name, line):
    """Keep the latest line for ``name``; tests/conftest.py prints them in the summary."""
    FIGURES[name] = line
