"""Staff only: keep the case on the checklist page as a regression case (issue 11).

The expectation is filled from the current answer under the live release:
overall status, every criterion's status, the differentials and cautions
shown. The editor then names the source and adjusts it in the admin. Nothing
here is reachable without a staff login, and the form's CSRF token is checked.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from checklist.content.models import RegressionCase
from checklist.content.rule_book import snapshot
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.golden import expectation_from
from checklist.web.forms import CaseForm, read_posted


@staff_member_required
@require_POST
def save_case(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # a staff User here (the decorator saw to it)
    snap = snapshot()
    form = CaseForm(read_posted(request), snapshot=snap)
    form.is_valid()
    if form.case is None or form.errors:
        return HttpResponse("Fix the values marked on the form first.", status=400, content_type="text/plain")
    result = evaluate(form.case, snap.book)
    name = (request.POST.get("regression_case_name") or "").strip()[:200]
    if not name:
        name = f"Case saved from the checklist ({result['status'].replace('_', ' ')})"
    data = {k: v for k, v in form.payload.items() if k != "compare"}
    case = RegressionCase.objects.create(
        slug=f"{slugify(name)[:100]}-{uuid.uuid4().hex[:8]}",
        name=name,
        criteria_set=data.pop("criteria_set", "") or "",
        case=data,
        expected=expectation_from(result),
        source="Saved from the checklist page; add the published source or the rationale.",
        author=user.get_full_name() or user.get_username(),
        created_by=user,
    )
    url = reverse("admin:checklist_regressioncase_change", args=[case.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)
