"""The holiday calendar is edited here: the province's office enters next year's arrangement each December."""

from django.contrib import admin

from core.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("day", "name", "is_working_day")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "day"
