"""The portal's views at allauth's paths (accounts.allauth_views): included before allauth's own in portal/urls.py."""

from allauth.headless.constants import Client
from django.urls import path

from accounts import allauth_views

# Paths without a language prefix: the OpenID Connect provider and allauth's headless API.
urlpatterns = [
    path("identity/o/api/token", allauth_views.oidc_token),
    path(
        "_allauth/app/v1/account/authenticators/totp",
        allauth_views.StaffManageTOTPView.as_api_view(client=Client.APP),
    ),
    path(
        "_allauth/browser/v1/account/authenticators/totp",
        allauth_views.StaffManageTOTPView.as_api_view(client=Client.BROWSER),
    ),
]

# Pages, under the language prefix as allauth's are.
page_urlpatterns = [
    path("accounts/confirm-email/", allauth_views.EmailCodeConfirmView.as_view()),
]
