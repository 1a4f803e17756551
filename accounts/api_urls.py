from django.urls import path

from accounts import api

urlpatterns = [
    path("me/", api.Me.as_view(), name="api-me"),
]
