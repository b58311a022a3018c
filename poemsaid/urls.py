"""Root URLs. The admin path is a setting (ADMIN_URL) so it can be moved."""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from checklist.api import screen as api_screen
from checklist.api import views as api
from checklist.api.follow_up import follow_up_view
from checklist.web import health

admin.site.site_header = "POEMSaid content"
admin.site.site_title = "POEMSaid content"
admin.site.index_title = "Edit content (every change is versioned)"

urlpatterns = [
    path("api/v1/evaluate", api.evaluate_view, name="api_evaluate"),
    path("api/v1/follow-up", follow_up_view, name="api_follow_up"),
    path("api/v1/screen", api_screen.screen_view, name="api_screen"),
    path("api/v1/criteria-sets", api.criteria_sets_view, name="api_criteria_sets"),
    path("api/v1/vocabulary", api.vocabulary_view, name="api_vocabulary"),
    path("api/v1/openapi.json", api.openapi_view, name="api_openapi"),
    path("healthz", health.healthz, name="healthz"),
    path("", include("checklist.ehr.urls")),
    path(settings.ADMIN_URL + "rosetta/", include("rosetta.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]
# The pages carry their language in the URL (/ja/about, /zh-hans/about; English unprefixed);
# every path above keeps its one unprefixed form.
urlpatterns += i18n_patterns(path("", include("checklist.web.urls")), prefix_default_language=False)
