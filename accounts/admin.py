"""Accounts in the admin: identity is shown masked only, and never edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import actions, enrolment, selectors
from accounts.models import AgentAuthorisation, Enterprise, EnterpriseEvent, StaffEnrolmentCode, StaffMembership, User
from core.errors import DomainError


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
    actions = ("issue_enrolment_code",)

    @admin.action(description=_("Issue a TOTP enrolment code"), permissions=["issue_enrolment_code"])
    def issue_enrolment_code(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """A staff member's first authenticator needs this code; it is shown here once and stored hashed."""
        for user in queryset:
            try:
                code = enrolment.staff_enrolment_code_issue(user_id=user.pk, actor=request.user)  # type: ignore[arg-type]
            except DomainError as error:
                self.message_user(request, f"{user.email}: {error.message}", messages.ERROR)
            else:
                text = _(
                    "Issued to %(email)s: enrolment code %(code)s. It works once, for 72 hours, and is shown only now."
                )
                self.message_user(request, text % {"email": user.email, "code": code}, messages.WARNING)

    def has_issue_enrolment_code_permission(self, request: HttpRequest) -> bool:
        return selectors.is_platform_admin(request.user)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Memberships removed or moved here end through the action, so the work held there returns."""
        moved = [
            (each.instance.user_id, each.initial["department"])
            for each in formset.forms
            if each.instance.pk and "department" in each.changed_data and each not in formset.deleted_forms
        ]
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.model is StaffMembership:
                gone = [(m.user_id, m.department_id) for m in formset.deleted_objects] + moved
                for user_id, department_id in gone:
                    if not StaffMembership.objects.filter(user_id=user_id, department_id=department_id).exists():
                        actions.staff_left(user_id=user_id, department_id=department_id)

    @admin.display(description=_("name"))
    def masked_name(self, user: User) -> str:
        return user.masked_name


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "department__name", "department__uscc")
    autocomplete_fields = ("user", "department")

    def delete_model(self, request: HttpRequest, obj: StaffMembership) -> None:
        actions.staff_membership_end(membership_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership_id in list(queryset.values_list("pk", flat=True)):
            actions.staff_membership_end(membership_id=membership_id)

    def save_model(self, request: HttpRequest, obj: StaffMembership, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = StaffMembership.objects.filter(pk=obj.pk).values_list("department_id", flat=True).first()
            super().save_model(request, obj, form, change)
            if before is not None and before != obj.department_id:
                actions.staff_left(user_id=obj.user_id, department_id=before)


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


@admin.register(StaffEnrolmentCode)
class StaffEnrolmentCodeAdmin(admin.ModelAdmin):
    """Who was issued an enrolment code, by whom, and whether it was used: the codes themselves are never shown."""

    list_display = ("user", "issued_by", "issued_at", "expires_at", "used_at")
    list_select_related = ("user", "issued_by")
    search_fields = ("user__email",)
    fields = ("user", "issued_by", "issued_at", "expires_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued through the action on users, which shows the code once

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
