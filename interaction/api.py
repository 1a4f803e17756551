"""The inbox over the API: my messages, rendered in the request's language, and marking one read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StableCursorPagination
from interaction import actions, selectors
from interaction.models import Message


class InRequestedLanguage:
    """Answer in the language the request asks for (Accept-Language), as the messages are written for people.

    The site's pages take their language from the URL, so the middleware gives every path
    outside i18n_patterns, /api/ included, the default language; an app asks by header instead.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        language = translation.get_language_from_request(request, check_path=False)
        with translation.override(language):
            response: HttpResponseBase = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        response.headers["Content-Language"] = language
        return response


class MessageSerializer(serializers.ModelSerializer[Message]):
    """A message with its words in the request's language; ``url`` is the page it is about, or empty."""

    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Message
        fields = ["id", "event", "subject", "body", "url", "created_at", "is_read"]
        read_only_fields = fields

    def get_url(self, message: Message) -> str:
        path = message.url
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request is not None else path


class MessageCursorPagination(StableCursorPagination):
    # Newest first; the id orders messages of the same instant the same way on every page.
    # DRF takes a tuple here, though the base class set a single field.
    ordering = ("-created_at", "-pk")  # type: ignore[assignment]


UNREAD_VALUES = {"true": True, "1": True, "false": False, "0": False}


class MessageList(InRequestedLanguage, generics.ListAPIView[Message]):
    """My messages, newest first; ``unread=true`` keeps the unread ones, ``unread=false`` the read ones."""

    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Message]:
        messages = selectors.messages_for(self.request.user)
        unread = self.request.query_params.get("unread")
        if unread is None or unread == "":
            return messages
        if unread.lower() not in UNREAD_VALUES:
            raise exceptions.ValidationError({"unread": [_("Use true or false.")]})
        return messages.filter(read_at__isnull=UNREAD_VALUES[unread.lower()])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.BOOL, description="true: only unread messages; false: only read ones"
            )
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class MessageRead(InRequestedLanguage, APIView):
    """Mark one of my messages read (again is harmless) and return it; 404 for anyone else's."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=MessageSerializer)
    def post(self, request: Request, message_id: int) -> Response:
        message = actions.message_mark_read(user=request.user, message_id=message_id)
        return Response(MessageSerializer(message, context={"request": request}).data)
