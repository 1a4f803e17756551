"""Accounts in the admin: identity is shown masked only, and never edited here."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import AgentAuthorisation, Enterprise, EnterpriseEvent, StaffMembership, User


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("department",)
    fields = ("department", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Real-name data is read-only and masked: it changes only through the verification actions."""

    list_display = ("email", "masked_name", "real_name_level", "is_staff", "is_active", "date_joined")
    list_filter = ("real_name_level", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "username")
    ordering = ("email",)
    readonly_fields = (
        "masked_name",
        "real_name_level",
        "id_type",
        "id_number_masked",
        "real_name_verified_at",
        "privacy_notice_version",
        "privacy_consented_at",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "email", "password")}),
        (
            _("Real name"),
            {
                "fields": (
                    "masked_name",
                    "real_name_level",
                    "id_type",
                    "id_number_masked",
                    "real_name_verified_at",
                )
            },
        ),
        (_("Privacy notice"), {"fields": ("privacy_notice_version", "privacy_consented_at")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    inlines = (StaffMembershipInline,)

    @admin.display(description=_("name"))
    def masked_name(self, user: User) -> str:
        return user.masked_name


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "department__name", "department__uscc")
    autocomplete_fields = ("user", "department")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the accounts actions (with their audit events): the admin looks, never edits."""

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


class EnterpriseEventInline(admin.TabularInline):
    model = EnterpriseEvent
    extra = 0
    fields = ("at", "action", "actor", "actor_label", "details")
    readonly_fields = fields
    ordering = ("at",)

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "kind", "legal_representative", "claimed_at")
    list_filter = ("kind",)
    search_fields = ("=uscc", "name")
    list_select_related = ("legal_representative",)
    inlines = (EnterpriseEventInline,)


@admin.register(AgentAuthorisation)
class AgentAuthorisationAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "agent", "scope", "valid_from", "valid_to", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("enterprise__uscc", "enterprise__name", "agent__email")
    list_select_related = ("enterprise", "agent")
