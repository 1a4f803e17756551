"""The portal's URLs, and the floor the benchmarks measure every page against."""

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.http import require_GET

from portal.urls import urlpatterns as portal_urlpatterns


@require_GET
def floor(request: HttpRequest) -> JsonResponse:
    """A bare view with a small JSON body: what the middleware stack and the web server cost on their own."""
    return JsonResponse({"status": "ok", "service": "一网通办"})


urlpatterns: list[URLPattern | URLResolver] = [path("bench/floor", floor, name="bench-floor"), *portal_urlpatterns]
