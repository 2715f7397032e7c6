"""Helpers the tests hand to real processes (gunicorn, workers)."""
