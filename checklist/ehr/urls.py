"""URLs of the EHR integration: CDS Hooks (fixed paths from the spec) and SMART launch."""

from __future__ import annotations

from django.urls import path

from checklist.ehr import cds_hooks, smart

urlpatterns = [
    path("cds-services", cds_hooks.discovery, name="cds_discovery"),
    path("cds-services/<slug:service_id>", cds_hooks.service, name="cds_service"),
    path("cds-services/<slug:service_id>/feedback", cds_hooks.feedback, name="cds_feedback"),
    path("smart/launch", smart.launch, name="smart_launch"),
    path("smart/callback", smart.callback, name="smart_callback"),
    path("smart/open", smart.open_page, name="smart_open"),
]
