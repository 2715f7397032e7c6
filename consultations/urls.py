"""The visitor's consultation pages (booking, request, links from emails) and the staff report."""

from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("book/", views.book, name="book"),
    path("book/thanks/", views.thanks, name="thanks"),
    path("book/check-your-email/", views.check_email, name="check_email"),
    path("confirm/<str:token>/", views.confirm_addition, name="confirm_addition"),
    path("privacy/", views.privacy, name="privacy"),
    path("requests/<str:reference>/", views.request_detail, name="request"),
    path("requests/<str:reference>/already-open/", views.repeat, name="repeat"),
    path("cancel/<str:token>/", views.cancel, name="cancel"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/cancel/", views.status_cancel, name="status_cancel"),
    path("status/<str:token>/new-times/", views.status_reschedule, name="status_reschedule"),
    path("staff/report/", views.report, name="report"),
]
