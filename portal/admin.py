from django.contrib import admin

from portal.models import WorkerPing


@admin.register(WorkerPing)
class WorkerPingAdmin(admin.ModelAdmin):
    list_display = ("id", "queue", "sent_at", "answered_at", "answered_by")
    list_filter = ("queue",)
    date_hierarchy = "sent_at"
