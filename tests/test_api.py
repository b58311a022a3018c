"""JSON API (design.md §3.4): exact paths, no redirect, no CSRF, JSON errors, never a 500."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CASE = {
    "criteria_set": "mayo-2007",
    "findings": {
        "polyneuropathy": True,
        "lymphadenopathy": True,
        "papilledema": False,
        "m_protein_present": True,
    },
    "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma", "platelets_10e9_l": 480, "sex": "M"},
}


@pytest.fixture
def api(seeded):
    return Client(enforce_csrf_checks=True)


def post(api, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.post("/api/v1/evaluate", data=data, content_type=content_type)


def test_evaluate_answers_the_design_example(api):
    response = post(api, CASE)
    assert response.status_code == 200
    body = response.json()
    # The output keys of design.md §3.3, written out here as the contract.
    assert set(body) >= {
        "criteria_set", "content_version", "status", "meets_criteria", "mandatory_met", "major_met",
        "minor_met", "criteria", "missing", "differentials", "cautions", "disclaimer",
    }  # fmt: skip
    assert body["status"] == "met" and body["meets_criteria"] is True
    assert body["major_met"] == ["vegf_elevated"]
    assert set(body["minor_met"]) == {"organomegaly", "thrombocytosis_polycythemia"}
    assert body["criteria_set"]["slug"] == "mayo-2007"
    assert body["content_version"]
    assert "diagnosis" in body["disclaimer"].lower()
    assert "Set-Cookie" not in response.headers


def test_value_with_unit_is_converted(api):
    case = {**CASE, "labs": {**CASE["labs"], "vegf_pg_ml": {"value": 0.45, "unit": "ng/mL"}}}
    body = post(api, case).json()
    reason = next(c for c in body["criteria"] if c["code"] == "vegf_elevated")["reasons"][0]
    assert "450 pg/mL" in reason


def test_compare_returns_every_set(api):
    body = post(api, {**CASE, "compare": True}).json()
    assert [r["criteria_set"] for r in body["comparison"]] == ["mayo-2007", "mayo-2003", "suichi-2019"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"findings": {"unknown_code": True}}, "findings.unknown_code"),
        ({"findings": {"polyneuropathy": "true"}}, "findings.polyneuropathy"),
        ('{"labs": {"vegf_pg_ml": NaN}}', "(body)"),
        ('{"labs": {"vegf_pg_ml": Infinity}}', "(body)"),
        ({"labs": {"vegf_pg_ml": 1e9}}, "labs.vegf_pg_ml"),
        ({"labs": {"vegf_pg_ml": {"value": 1, "unit": "mg"}}}, "labs.vegf_pg_ml.unit"),
        ({"labs": {"vegf_specimen": "csf"}}, "labs.vegf_specimen"),
        ({"criteria_set": "who-2099"}, "criteria_set"),
        ("{not json", "(body)"),
        ("[" * 5000 + "]" * 5000, "(body)"),
        ("[1, 2]", "(body)"),
        (b"\xff\xfe", "(body)"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field):
    response = post(api, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in {e["field"] for e in errors}
    assert all(e["message"] for e in errors)


def test_empty_json_body_is_400(api):
    response = api.generic("POST", "/api/v1/evaluate", b"", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "(body)"


def test_oversized_body_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = post(api, {"findings": {}, "labs": {}, "pad": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "(body)"


def test_wrong_content_type_is_415(api):
    response = api.post("/api/v1/evaluate", data="a=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_get_on_evaluate_is_405_json(api):
    response = api.get("/api/v1/evaluate")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("path", ["/api/v1/evaluate", "/api/v1/criteria-sets", "/api/v1/vocabulary"])
def test_exact_paths_answer_without_redirect(api, path):
    response = (
        api.post(path, "{}", content_type="application/json") if path.endswith("evaluate") else api.get(path)
    )
    assert response.status_code in (200, 400)
    assert response["Content-Type"] == "application/json"


def test_criteria_sets_lists_the_rules(api):
    body = api.get("/api/v1/criteria-sets").json()
    sets = {s["slug"]: s for s in body["criteria_sets"]}
    assert body["default"] == "mayo-2007"
    assert sets["suichi-2019"]["mandatory"] == [
        "polyneuropathy",
        "monoclonal_plasma_cell_disorder",
        "vegf_elevated",
    ]
    assert sets["suichi-2019"]["minor_min"] == 2
    assert sets["mayo-2003"]["major"] == []


def test_vocabulary_lists_every_code(api):
    from checklist.engine.diagnosis.differentials import DIFFERENTIALS
    from checklist.engine.vocabulary import FINDINGS, LABS

    body = api.get("/api/v1/vocabulary").json()
    assert {f["code"] for f in body["findings"]} == set(FINDINGS)
    assert {lab["code"] for lab in body["labs"]} == set(LABS)
    assert {d["code"] for d in body["differentials"]} == set(DIFFERENTIALS)
    vegf = next(lab for lab in body["labs"] if lab["code"] == "vegf_pg_ml")
    assert vegf["unit"] == "pg/mL" and vegf["other_units"] == ["ng/mL", "ng/L"] and vegf["maximum"] == 50000


def test_openapi_document_describes_the_paths(api):
    doc = api.get("/api/v1/openapi.json").json()
    assert set(doc["paths"]) == {
        "/api/v1/evaluate",
        "/api/v1/follow-up",
        "/api/v1/criteria-sets",
        "/api/v1/vocabulary",
        "/api/v1/screen",
    }
    assert "polyneuropathy" in doc["components"]["schemas"]["Case"]["properties"]["findings"]["properties"]


def test_evaluation_writes_nothing_to_the_database(api, django_assert_num_queries):
    from django.apps import apps

    def counts():
        return {m.__name__: m.objects.count() for m in apps.get_models()}

    before = counts()
    post(api, CASE)  # warm the content cache
    with django_assert_num_queries(0):
        for _ in range(5):
            assert post(api, {**CASE, "compare": True}).status_code == 200
    assert counts() == before
