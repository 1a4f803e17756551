from django.urls import path

from interaction import api

urlpatterns = [
    path("messages/", api.MessageList.as_view(), name="api-messages"),
    path("messages/<int:message_id>/read/", api.MessageRead.as_view(), name="api-message-read"),
]
