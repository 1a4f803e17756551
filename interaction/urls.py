from django.urls import path

from interaction import views

app_name = "interaction"

urlpatterns = [
    path("", views.message_list, name="messages"),
    path("read-all/", views.messages_read_all, name="read_all"),
    path("<int:message_id>/", views.message_detail, name="message"),
]
