"""Shared by the EHR tests: signing keys, CDS client JWTs, and the synthetic patients."""

import datetime
import json
import re
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parent.parent
PATIENTS_FILE = ROOT / "tests" / "ehr" / "synthetic-patients.json"
BASE_URL = "https://poemsaid.example.org"
SERVICE_PATH = "/cds-services/poems-criteria"
ISS = "https://ehr.example.org/cds-client"


class Signer:
    """A CDS client's signing key and the JWK it publishes."""

    def __init__(self, alg: str, kid: str) -> None:
        self.alg = alg
        self.kid = kid
        if alg.startswith("ES"):
            self.private = ec.generate_private_key(ec.SECP384R1())
            self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwk.update(kid=kid, alg=alg, use="sig")

    def token(self, aud: str, iss: str = ISS, **overrides) -> str:
        now = int(time.time())
        claims = {"iss": iss, "aud": aud, "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}
        claims.update({k: v for k, v in overrides.items() if not k.startswith("header_")})
        for key in [k for k, v in claims.items() if v is None]:
            del claims[key]
        headers = {"kid": self.kid, "typ": "JWT"}
        headers.update({k[len("header_") :]: v for k, v in overrides.items() if k.startswith("header_")})
        # PyJWT adds typ "JWT" unless it is given as None, which drops it.
        headers = {k: v for k, v in headers.items() if v is not None or k == "typ"}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers=headers)


def clients_file(tmp_path, signers, fhir_servers=(), jwks_url=None):
    entry = {"jwks_url": jwks_url} if jwks_url else {"jwks": {"keys": [s.jwk for s in signers]}}
    if fhir_servers:
        entry["fhir_servers"] = list(fhir_servers)
    path = tmp_path / "cds-clients.json"
    path.write_text(json.dumps({ISS: entry}))
    return str(path)


def expand_repeats(entries):
    """An entry with "repeat" stands for that many copies of its resource (see the data file)."""
    out = []
    for entry in entries:
        rep = entry.get("repeat")
        if not rep:
            out.append(entry)
            continue
        template = json.dumps(entry["resource"])
        for n in range(rep["count"]):
            days = rep["first_days_ago"] + n * rep["every_days"]
            text = template.replace("{{n}}", str(n)).replace("{{repeat-date}}", f"{{{{today-{days}}}}}")
            out.append({"resource": json.loads(text)})
    return out


def synthetic_resources(today=None):
    """The synthetic patients the node FHIR server loads, with their relative dates resolved."""
    today = today or datetime.date.today()
    data = json.loads(PATIENTS_FILE.read_text(encoding="utf-8"))
    text = json.dumps(expand_repeats(data["entry"]))
    text = re.sub(
        r"\{\{today-(\d+)\}\}", lambda m: (today - datetime.timedelta(days=int(m.group(1)))).isoformat(), text
    )
    return [e["resource"] for e in json.loads(text)]


def searchset(resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def prefetch_for(patient_id, resources=None):
    """What a CDS client would prefetch for the discovery templates: Patient, Observations, Specimens."""
    resources = resources if resources is not None else synthetic_resources()
    ref = f"Patient/{patient_id}"
    patient = next((r for r in resources if r["resourceType"] == "Patient" and r["id"] == patient_id), None)
    obs = [r for r in resources if r["resourceType"] == "Observation" and r["subject"]["reference"] == ref]
    spec = [r for r in resources if r["resourceType"] == "Specimen" and r["subject"]["reference"] == ref]
    return {"patient": patient, "observations": searchset(obs), "specimens": searchset(spec)}


def hook_request(patient_id, prefetch=None, **extra):
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-test", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body
