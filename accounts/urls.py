from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.me, name="me"),
    path("verify/", views.verify, name="verify"),
    path("verify/face/", views.face_check_page, name="face_check"),
    path("verify/face/callback/", views.face_check_callback, name="face_check_callback"),
    path("verify/face/return/", views.face_check_return, name="face_check_return"),
    path("verify/face/demo/<uuid:check_id>/", views.face_check_demo, name="face_check_demo"),
    path("acting-for/", views.acting_for, name="acting_for"),
    path("household/", views.household, name="household"),
    path("privacy/", views.privacy_consent, name="privacy_consent"),
    path("sms-outbox/", views.sms_outbox, name="sms_outbox"),
    path("counter/confirm/", views.counter_confirm, name="counter_confirm"),
    path("enterprises/claim/", views.enterprise_claim, name="enterprise_claim"),
    path("enterprises/<int:enterprise_id>/", views.enterprise, name="enterprise"),
    path(
        "enterprises/<int:enterprise_id>/authorisations/<int:authorisation_id>/revoke/",
        views.authorisation_revoke,
        name="authorisation_revoke",
    ),
]
