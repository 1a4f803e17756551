"""Root URLs. Pages are Chinese at their plain path and English under /en/."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import allauth_urls
from accounts import views as accounts_views
from accounts.decorators import admin_login_redirect
from core import api
from portal import views
from services import views as services_views

# The admin's own login form would be a way in without MFA: it sends people to the portal login instead.
admin.site.login = admin_login_redirect  # type: ignore[method-assign]

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include("services.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # GET only: the page's renderer has no template for DRF's OPTIONS description.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    path("healthz/worker", views.healthz_worker, name="healthz-worker"),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("interaction.api_urls")),
    path("api/v1/", include("approvals.api_urls")),
    path("api/v1/", include("approvals.workbench_api_urls")),
    # Last of the API: a path no endpoint answers gets the API's 404 body, not the site's page
    # (a path with a line break in it too: "." alone does not match one).
    re_path(r"^api/(?P<path>(?s:.*))$", api.not_found),
    # allauth's headless API for the app and single-page front ends, and the OpenID Connect provider
    # (/.well-known/openid-configuration, /identity/o/…): fixed paths that clients are configured with.
    # The portal's rules at some of allauth's paths (accounts/allauth_views.py), before allauth's own.
    path("", include("accounts.allauth_urls")),
    path("_allauth/", include("allauth.headless.urls")),
    re_path(r"^_allauth/(?P<path>.*)$", views.headless_not_found),
    path("", include("allauth.idp.urls")),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("services/", include("services.urls")),
    path("search/", services_views.search, name="search"),
    path("", include(allauth_urls.page_urlpatterns)),
    path("accounts/", include("allauth.urls")),
    path("workbench/", include("approvals.workbench_urls")),
    path("", include("approvals.bundle_urls")),
    path("", include("approvals.urls")),
    path("me/messages/", include("interaction.urls")),
    path("me/", include("accounts.urls")),
    path("privacy/", accounts_views.privacy_notice, name="privacy_notice"),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
