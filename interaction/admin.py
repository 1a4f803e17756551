from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from interaction.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Messages are written only by ``notify``: the admin looks, never edits."""

    list_display = ("recipient", "event", "created_at", "is_read")
    list_filter = ("event", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__email", "event")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    fields = ("recipient", "event", "context", "created_at", "read_at")
    readonly_fields = fields

    @admin.display(description=_("read"), boolean=True)
    def is_read(self, message: Message) -> bool:
        return message.is_read

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
