from django.urls import path

from approvals.applications import api

urlpatterns = [
    path("applications/", api.ApplicationList.as_view(), name="api-applications"),
    path("applications/<uuid:application_id>/", api.ApplicationDetail.as_view(), name="api-application"),
    path(
        "applications/<uuid:application_id>/attachments/",
        api.ApplicationAttachments.as_view(),
        name="api-application-attachments",
    ),
    path("applications/<uuid:application_id>/submit/", api.ApplicationSubmit.as_view(), name="api-application-submit"),
    path(
        "applications/<uuid:application_id>/withdraw/",
        api.ApplicationWithdraw.as_view(),
        name="api-application-withdraw",
    ),
    path(
        "applications/<uuid:application_id>/supplement/",
        api.ApplicationSupplement.as_view(),
        name="api-application-supplement",
    ),
    path("track/", api.Track.as_view(), name="api-track"),
]
