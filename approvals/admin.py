"""Approvals in the admin: applications and tasks are only looked at (the holiday calendar is the kernel's)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from approvals.models import Application, WorkflowTask


class ReadOnly(admin.ModelAdmin):
    """Rows written only by the approvals actions, with their events: the admin looks, never edits."""

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnly):
    list_display = ("number", "implementation_code", "department", "status", "channel", "submitted_at", "due_date")
    list_filter = ("status", "channel")
    search_fields = ("number", "implementation_code")
    # Personal data (answers, identity) stays out of the admin: staff read it on the workbench, where it is logged.
    fields = (
        "number",
        "implementation_code",
        "department",
        "status",
        "outcome",
        "channel",
        "submitted_at",
        "accepted_at",
        "due_date",
        "legal_due_date",
        "decided_at",
        "completed_at",
    )
    list_select_related = ("department",)


@admin.register(WorkflowTask)
class WorkflowTaskAdmin(ReadOnly):
    list_display = ("application", "stage_key", "name", "department", "status", "result", "due_at")
    list_filter = ("status",)
    list_select_related = ("application", "department")
    fields = ("application", "stage_key", "name", "department", "status", "result", "due_at", "finished_at")
