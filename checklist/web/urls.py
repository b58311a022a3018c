"""The page URLs (inside ``i18n_patterns``: each also has a /ja/ and a /zh-hans/ twin)."""

from __future__ import annotations

from django.urls import path

from checklist.web import screen, staff_views, views
from checklist.web.follow_up import views as follow_up

app_name = "checklist"

urlpatterns = [
    path("", views.checklist, name="checklist"),
    path("result", views.result_fragment, name="result"),
    path("result/note", views.note, name="note"),
    path("report", views.report, name="report"),
    path("screen", screen.screen_page, name="screen"),
    path("screen/result", screen.screen_fragment, name="screen_result"),
    path("follow-up", follow_up.follow_up, name="follow_up"),
    path("follow-up/result", follow_up.follow_up_result, name="follow_up_result"),
    path("criteria", views.criteria, name="criteria"),
    path("differentials", views.differentials, name="differentials"),
    path("differentials/<slug:code>", views.differential, name="differential"),
    path("treatments", views.treatments, name="treatments"),
    path("treatments/<slug:slug>", views.treatment, name="treatment"),
    path("references", views.references, name="references"),
    path("about", views.about, name="about"),
    path("changelog", views.changelog, name="changelog"),
    path("regression-cases/new", staff_views.save_case, name="save_case"),
]
