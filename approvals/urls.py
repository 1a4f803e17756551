from django.urls import path

from approvals.applications import party_views, views
from approvals.documents import views as document_views
from approvals.workbench import views as workbench_views

app_name = "approvals"

urlpatterns = [
    path("services/<str:code>/apply/", views.start, name="start"),
    path("me/applications/", views.mine, name="mine"),
    path("me/confirmations/", party_views.confirmations, name="confirmations"),
    path("me/confirmations/<str:number>/", party_views.party_application, name="party_application"),
    path("me/confirmations/<str:number>/confirm/", party_views.confirm, name="party_confirm"),
    path("me/confirmations/<str:number>/decline/", party_views.decline, name="party_decline"),
    path("me/applications/drafts/<uuid:public_id>/", views.draft, name="draft"),
    path("me/applications/drafts/<uuid:public_id>/step/<int:step>/", views.draft_step, name="draft_step"),
    path("me/applications/drafts/<uuid:public_id>/materials/", views.draft_materials, name="draft_materials"),
    path("me/applications/drafts/<uuid:public_id>/check/", views.draft_check, name="draft_check"),
    path("me/applications/drafts/<uuid:public_id>/delete/", views.draft_delete, name="draft_delete"),
    path("me/applications/files/<uuid:public_id>/", views.attachment_download, name="attachment"),
    path("me/applications/<str:number>/", views.application, name="application"),
    path("me/applications/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("me/applications/<str:number>/supplement/", views.supplement, name="supplement"),
    path("me/applications/<str:number>/documents/<str:kind>.pdf", document_views.owner_document, name="document"),
    path("track/", views.track, name="track"),
    path("workbench/counter/", workbench_views.counter_start, name="counter_start"),
    path("workbench/files/<uuid:public_id>/", workbench_views.staff_attachment_download, name="staff_attachment"),
    path("workbench/counter/<uuid:public_id>/receipt/", workbench_views.counter_receipt, name="counter_receipt"),
    path(
        "workbench/applications/<uuid:public_id>/documents/<str:kind>.pdf",
        document_views.staff_document,
        name="staff_document",
    ),
]
