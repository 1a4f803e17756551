"""The base registries and their access log in the admin: read-only, and masked.

The registries are loaded from the source systems (and the demo), not typed in,
so nobody adds, changes or deletes a record here. The admin shows only masked
personal data (DESIGN §7): whole names, numbers and phones are for the owner and
for the staff handling an application, who read them through
``datahub.registries``, which logs each read. For the same reason there is no
search by identity number here (it would be an unlogged verification): persons
are found by household number.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from datahub.identity import mask_name
from datahub.models import DataAccessLog, LegalPersonRecord, PersonRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PersonRecord)
class PersonRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "masked_name",
        "id_type",
        "id_number_masked",
        "gender",
        "household_number",
        "relation_to_head",
        "household_region_code",
        "status",
    )
    list_filter = ("status", "marital_status", "id_type", "gender", "relation_to_head")
    fields = (
        "masked_name",
        "id_type",
        "id_number_masked",
        "gender",
        "ethnicity",
        "household_number",
        "relation_to_head",
        "household_region_code",
        "phone_masked",
        "status",
        "marital_status",
        "updated_at",
    )
    readonly_fields = fields
    search_fields = ("=household_number",)
    search_help_text = _("An exact household number.")

    @admin.display(description=_("name"))
    def masked_name(self, record: PersonRecord) -> str:
        return mask_name(record.name)


@admin.register(LegalPersonRecord)
class LegalPersonRecordAdmin(ReadOnlyAdmin):
    # A legal person's name, code and representative's name are public (企业信用信息公示); the number is not.
    list_display = ("name", "uscc", "kind", "legal_representative_name", "registered_region_code", "status")
    list_filter = ("status", "kind")
    fields = (
        "uscc",
        "name",
        "kind",
        "legal_representative_name",
        "legal_representative_id_type",
        "legal_representative_id_masked",
        "registered_region_code",
        "address",
        "established_on",
        "registered_capital_fen",
        "status",
        "registration_authority",
        "updated_at",
    )
    readonly_fields = fields
    search_fields = ("=uscc", "name")


@admin.register(DataAccessLog)
class DataAccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "who", "department_id", "resource", "method", "record_key", "purpose", "result")
    list_filter = ("resource", "method", "result")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    fields = (
        "at",
        "actor",
        "actor_label",
        "department_id",
        "resource",
        "method",
        "record_key",
        "purpose",
        "result",
    )
    readonly_fields = fields
    search_fields = ("=record_key", "purpose", "actor__username", "actor_label")

    @admin.display(description=_("actor"))
    def who(self, entry: DataAccessLog) -> str:
        return entry.actor.get_username() if entry.actor is not None else entry.actor_label
