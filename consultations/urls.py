from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("book/", views.book, name="book"),
]
