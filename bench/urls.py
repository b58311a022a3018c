"""The benchmark's URLs: the production ones plus /trivial, the baseline view.

/trivial exists only here (bench_settings.ROOT_URLCONF), never in production URLs.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from poemsaid.urls import urlpatterns as production


@require_GET
def trivial(request: HttpRequest) -> JsonResponse:
    """A near-empty JSON view: what a request costs in Django and gunicorn alone."""
    return JsonResponse({"ok": True})


urlpatterns = [path("trivial", trivial), *production]
