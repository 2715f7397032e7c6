"""Test support shared by the modules: pages as read, admin forms, fault makers, and
helpers handed to real processes (gunicorn, workers)."""
