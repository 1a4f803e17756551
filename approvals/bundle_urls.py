from django.urls import path

from approvals.bundles import views as bundle_views

app_name = "bundles"

urlpatterns = [
    path("services/bundles/<slug:slug>/apply/", bundle_views.start, name="start"),
    path("me/bundles/<uuid:public_id>/", bundle_views.bundle, name="bundle"),
    path("me/bundles/<uuid:public_id>/step/<int:step>/", bundle_views.step, name="step"),
    path("me/bundles/<uuid:public_id>/materials/", bundle_views.materials, name="materials"),
    path("me/bundles/<uuid:public_id>/check/", bundle_views.check, name="check"),
    path("me/bundles/<uuid:public_id>/delete/", bundle_views.delete, name="delete"),
]
