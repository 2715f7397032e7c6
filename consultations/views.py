"""Booking a free consultation (the form itself arrives with the consultations issue)."""

from django.shortcuts import render


def book(request):
    """The booking page that every comparison's call to action leads to."""
    return render(
        request, "consultations/book.html", {"comparison_slug": request.GET.get("comparison", "")}
    )
