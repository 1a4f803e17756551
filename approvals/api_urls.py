from django.urls import path

from approvals.applications import api, party_api
from approvals.bundles import api as bundle_api

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
    path("confirmations/", party_api.Confirmations.as_view(), name="api-confirmations"),
    path(
        "confirmations/<str:number>/confirm/",
        party_api.ConfirmationConfirm.as_view(),
        name="api-confirmation-confirm",
    ),
    path(
        "confirmations/<str:number>/decline/",
        party_api.ConfirmationDecline.as_view(),
        name="api-confirmation-decline",
    ),
    path("bundles/", bundle_api.BundleList.as_view(), name="api-bundles"),
    path("bundles/<slug:slug>/", bundle_api.BundleDetail.as_view(), name="api-bundle"),
    path("bundles/<slug:slug>/apply/", bundle_api.BundleStart.as_view(), name="api-bundle-start"),
    path("bundle-applications/", bundle_api.BundleApplicationList.as_view(), name="api-bundle-applications"),
    path(
        "bundle-applications/<uuid:bundle_id>/",
        bundle_api.BundleApplicationDetail.as_view(),
        name="api-bundle-application",
    ),
    path(
        "bundle-applications/<uuid:bundle_id>/attachments/",
        bundle_api.BundleApplicationAttachments.as_view(),
        name="api-bundle-application-attachments",
    ),
    path(
        "bundle-applications/<uuid:bundle_id>/submit/",
        bundle_api.BundleApplicationSubmit.as_view(),
        name="api-bundle-application-submit",
    ),
]
