"""The SMART launch into the follow-up: every dated result read (paged, sorted), the flowsheet filled.

The EHR is faked at the HTTP boundary (httpx.MockTransport): its SMART configuration, token
endpoint and FHIR server, which pages its searchset and honours ``_sort=-date``. Our code
(launch, callback, reads, mapping, the follow-up page) runs as deployed.
"""

import datetime
import logging
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from checklist.content.rule_book import snapshot
from checklist.ehr import follow_up_read

pytestmark = pytest.mark.django_db

FHIR = "https://ehr.example.org/fhir"
PID = "poems-serial-1"
PAGE = 50  # the fake server pages at 50 whatever _count asks, so the reader must follow next
SECRET = "Serial-Patient-Name-Zq"
START = datetime.date.today() - datetime.timedelta(days=91 * 30 + 10)
VISITS = 30  # quarterly for seven and a half years: 6 results each, 180 Observations + noise


def _vegf_value(i):
    # Falls after treatment to a nadir, then rises: the last visits are a VEGF relapse.
    return [1400, 900, 500, 300, 250][i] if i < 5 else (250 if i < 27 else [600, 900, 1300][i - 27])


def _observations():
    out = []
    for i in range(VISITS):
        day = (START + datetime.timedelta(days=91 * i)).isoformat()

        def obs(code, n, i=i, day=day, **value):
            return {
                "resourceType": "Observation",
                "id": f"o{i}-{n}",
                "status": "final",
                "subject": {"reference": f"Patient/{PID}"},
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "effectiveDateTime": f"{day}T09:00:00Z",
                **value,
            }

        def qty(v, unit):
            return {
                "valueQuantity": {
                    "value": v,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                }
            }

        out += [
            obs("75628-8", 1, **qty(_vegf_value(i), "pg/mL"), specimen={"reference": "Specimen/plasma-1"}),
            obs("33358-3", 2, **qty(0.4 if i < 3 else 0.1, "g/dL")),
            obs("36916-5", 3, **qty(20.5, "mg/L")),
            obs("33944-0", 4, **qty(30.0, "mg/L")),
            obs("48378-4", 5, **qty(0.68, "{ratio}")),
            obs(
                "25700-6",
                6,
                valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "260373001"}]},
            ),
        ]
    # A cancelled result is read but never filled (no visit of its date).
    out.append({**out[0], "id": "cancelled", "status": "cancelled", "effectiveDateTime": "2020-01-01"})
    return out


class FakeEhr:
    def __init__(self):
        self.observations = sorted(_observations(), key=lambda o: o["effectiveDateTime"], reverse=True)
        self.searches = []
        self.app_context = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        path = request.url.path
        if path.endswith("/.well-known/smart-configuration"):
            return httpx.Response(
                200,
                json={
                    "authorization_endpoint": "https://ehr.example.org/authorize",
                    "token_endpoint": "https://ehr.example.org/token",
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        if path == "/token":
            form = parse_qs(request.content.decode())
            assert form["code"] == ["the-code"] and form["code_verifier"][0]
            token = {"access_token": "tok", "token_type": "Bearer", "patient": PID, "scope": "x"}
            if self.app_context:
                token["appContext"] = self.app_context
            return httpx.Response(200, json=token)
        assert request.headers["Authorization"] == "Bearer tok"
        if path == f"/fhir/Patient/{PID}":
            return httpx.Response(
                200,
                json={"resourceType": "Patient", "id": PID, "name": [{"family": SECRET}], "gender": "male"},
            )
        if path == "/fhir/Specimen":
            return httpx.Response(
                200,
                json={
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [
                        {
                            "resource": {
                                "resourceType": "Specimen",
                                "id": "plasma-1",
                                "type": {
                                    "coding": [{"system": "http://snomed.info/sct", "code": "119361006"}]
                                },
                            }
                        }
                    ],
                },
            )
        if path == "/fhir/Observation":
            self.searches.append(url)
            query = parse_qs(request.url.query.decode())
            codes = {c.rsplit("|", 1)[-1] for c in query["code"][0].split(",")}
            items = [o for o in self.observations if o["code"]["coding"][0]["code"] in codes]
            if query.get("_sort") != ["-date"]:
                items = list(reversed(items))
            offset = int(query.get("_offset", ["0"])[0])
            page = items[offset : offset + PAGE]
            bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": o} for o in page]}
            if offset + PAGE < len(items):
                nxt = re.sub(r"&_offset=\d+", "", url) + f"&_offset={offset + PAGE}"
                bundle["link"] = [{"relation": "next", "url": nxt}]
            return httpx.Response(200, json=bundle)
        return httpx.Response(404)


@pytest.fixture
def ehr(monkeypatch, settings):
    settings.SMART_ALLOWED_ISSUERS = [FHIR]
    fake = FakeEhr()
    transport = httpx.MockTransport(fake.handle)
    real_client = httpx.Client

    def client(*args, **kwargs):
        kwargs["transport"] = transport
        return real_client(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", client)
    monkeypatch.setattr(httpx, "get", lambda url, **kw: client().get(url, **kw))
    monkeypatch.setattr(httpx, "post", lambda url, **kw: client().post(url, **kw))
    return fake


def _launch(client, **params):
    response = client.get("/smart/launch", {"iss": FHIR, "launch": "xyz", **params})
    assert response.status_code == 302, response.content[:300]
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    return response, state


def _value(html, name):
    m = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return m.group(1) if m else None


def _selected(html, name):
    m = re.search(rf'name="{re.escape(name)}".*?</select>', html, re.S)
    assert m, name
    chosen = re.search(r'<option value="([^"]*)" selected', m.group(0))
    return chosen.group(1) if chosen else ""


def test_follow_up_launch_reads_every_page_and_fills_the_flowsheet_oldest_first(client, seeded, ehr, caplog):
    caplog.set_level(logging.DEBUG)
    redirect, state = _launch(client, target="follow_up")
    # No extra scope for the follow-up: the same reads as the checklist.
    assert "Condition" not in parse_qs(urlsplit(redirect["Location"]).query)["scope"][0]
    page = client.get("/smart/callback", {"code": "the-code", "state": state})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="fu-form"' in html and "Filled from the record" in html

    # Newest first, paged: 181 results of the follow-up codes at 50 a page is four reads.
    assert len(ehr.searches) == 4
    first = parse_qs(urlsplit(ehr.searches[0]).query)
    assert first["_sort"] == ["-date"]
    asked = {c.rsplit("|", 1)[-1] for c in first["code"][0].split(",")}
    assert asked == {"75628-8", "33358-3", "25700-6", "36916-5", "33944-0", "48378-4"}

    # One visit per date, oldest first, every visit (not only the newest).
    assert _value(html, "visits") == str(VISITS)
    for i in range(VISITS):
        n = i + 1
        day = (START + datetime.timedelta(days=91 * i)).isoformat()
        assert _value(html, f"v{n}__date") == day
        assert _value(html, f"v{n}__vegf_pg_ml") == str(_vegf_value(i))
        assert _selected(html, f"v{n}__vegf_specimen") == "plasma"
        assert _selected(html, f"v{n}__sife_result") == "positive"
        assert _value(html, f"v{n}__flc_ratio") == "0.68"
    assert _value(html, "v1__m_protein_g_dl") == "0.4"
    assert _selected(html, "v1__m_protein_g_dl__unit") == "g/dL"
    assert _value(html, "v31__date") is None
    # The engine answered from the filled sheet: the VEGF rise after the nadir is flagged.
    assert "Possible progression: review.</strong> Raised by:" in html
    # Nothing from the chart in the logs; the launch cookie is dropped once used.
    logged = caplog.text
    assert SECRET not in logged and "1300" not in logged and PID not in logged
    assert SECRET not in html


def test_app_context_follow_up_opens_the_flowsheet(client, seeded, ehr):
    # An EHR that passes a card link's appContext in the token response instead of a target.
    ehr.app_context = "follow_up"
    _, state = _launch(client)
    html = client.get("/smart/callback", {"code": "the-code", "state": state}).content.decode()
    assert 'id="fu-form"' in html and _value(html, "visits") == str(VISITS)


def test_unknown_target_is_refused(client, seeded, ehr):
    response = client.get("/smart/launch", {"iss": FHIR, "launch": "x", "target": "nope"})
    assert response.status_code == 400
    assert "follow_up" in response.content.decode()


def test_serial_keeps_the_newest_visits_when_there_are_too_many_dates():
    loinc = snapshot().loinc
    obs = []
    for i in range(follow_up_read.MAX_VISITS + 5):
        obs.append(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
                "effectiveDateTime": (START + datetime.timedelta(days=30 * i)).isoformat(),
                "valueQuantity": {"value": 100 + i, "code": "pg/mL", "system": "http://unitsofmeasure.org"},
            }
        )
    record = follow_up_read.serial(obs, [], loinc)
    assert len(record.dates) == follow_up_read.MAX_VISITS
    assert record.fields["v1__vegf_pg_ml"] == "105"  # the five oldest dates were left out
    assert record.fields["v1__vegf_specimen"] == "unknown"
    assert any("newest 40" in n for n in record.notes)
    assert record.values_of("vegf_pg_ml")[-1][1] == str(100 + follow_up_read.MAX_VISITS + 4)
