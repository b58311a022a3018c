"""A stand-in CDS client for trying the CDS Hooks service by hand (docs/ehr.md).

    python deploy/cds_client.py keygen [--dir var/cds-client] [--iss URL]
        An ES384 key pair: private.pem (stays with the "EHR"), clients.json (the public key
        as a JWK Set, ready for CDS_HOOKS_CLIENTS), client.json (iss and kid for `call`).
    python deploy/cds_client.py call [--dir var/cds-client] [--url URL] [--aud-array]
                                     [--hook patient-view|order-select|order-sign]
        Signs a JWT (aud = the URL called, a fresh jti, 60 s) and sends patient-view for a
        synthetic patient whose prefetch holds a plasma VEGF; prints the status and the answer.
        With --hook order-select or order-sign, sends a draft prednisone order for CIDP to
        poems-cidp-orders for a patient with an IgG lambda M-protein and no VEGF on file.

Synthetic data only: nothing here is, or should be, a real patient.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_DIR = Path("var/cds-client")
DEFAULT_ISS = "https://ehr.example.org/cds-client"
DEFAULT_URL = "http://127.0.0.1:8000/cds-services/poems-criteria"


def keygen(directory: Path, iss: str) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP384R1())
    kid = f"demo-{uuid.uuid4().hex[:8]}"
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="ES384", use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path = directory / "private.pem"
    key_path.write_bytes(pem)
    key_path.chmod(0o600)
    (directory / "clients.json").write_text(json.dumps({iss: {"jwks": {"keys": [jwk]}}}, indent=1) + "\n")
    (directory / "client.json").write_text(json.dumps({"iss": iss, "kid": kid}) + "\n")
    print(f"wrote {key_path}, {directory / 'clients.json'} and {directory / 'client.json'}")
    print(f"start the app with CDS_HOOKS_CLIENTS={directory / 'clients.json'}")
    return 0


def sample_request(patient_id: str) -> dict[str, Any]:
    """patient-view for a synthetic patient with a plasma VEGF ten days old, prefetched."""
    day = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    vegf = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": day,
        "valueQuantity": {
            "value": 1250,
            "unit": "pg/mL",
            "system": "http://unitsofmeasure.org",
            "code": "pg/mL",
        },
        "specimen": {"reference": "#s1"},
        "contained": [
            {
                "resourceType": "Specimen",
                "id": "s1",
                "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119361006"}]},
            }
        ],
    }
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/demo", "patientId": patient_id},
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": patient_id,
                "gender": "male",
                "birthDate": "1968-04-02",
            },
            "observations": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": vegf}]},
        },
    }


def order_request(patient_id: str, hook: str) -> dict[str, Any]:
    """An order hook: prednisone (RxNorm 8640, a seeded [unverified] code) for CIDP (G61.81),
    for a synthetic patient with an IgG lambda band 40 days ago and no VEGF."""
    day = (datetime.date.today() - datetime.timedelta(days=40)).isoformat()
    ref = {"reference": f"Patient/{patient_id}"}
    ife = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}]},
        "subject": ref,
        "effectiveDateTime": day,
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "260373001"}],
            "text": "IgG lambda band",
        },
    }
    order = {
        "resourceType": "MedicationRequest",
        "id": "demo-order-1",
        "status": "draft",
        "intent": "order",
        "subject": ref,
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8640"}],
            "text": "prednisone",
        },
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G61.81"}]}],
    }
    context: dict[str, Any] = {
        "userId": "Practitioner/demo",
        "patientId": patient_id,
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
    }
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/demo-order-1"]
    bundle = {"resourceType": "Bundle", "type": "searchset"}
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": {
            "observations": {**bundle, "entry": [{"resource": ife}]},
            "conditions": {**bundle, "entry": []},
        },
    }


def call(directory: Path, url: str, aud_array: bool, hook: str = "patient-view") -> int:
    meta = json.loads((directory / "client.json").read_text())
    key = serialization.load_pem_private_key((directory / "private.pem").read_bytes(), password=None)
    now = int(time.time())
    aud: str | list[str] = [url] if aud_array else url
    claims = {"iss": meta["iss"], "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    token = jwt.encode(claims, key, algorithm="ES384", headers={"kid": meta["kid"], "typ": "JWT"})  # type: ignore[arg-type]
    if hook == "patient-view":
        body = sample_request("demo-synthetic-1")
    else:
        body = order_request("demo-synthetic-2", hook)
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    print(response.status_code)
    try:
        print(json.dumps(response.json(), indent=1))
    except ValueError:
        print(response.text[:2000])
    return 0 if response.status_code == 200 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("keygen", help="make a key pair and a clients file")
    make.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    make.add_argument("--iss", default=DEFAULT_ISS)
    send = commands.add_parser("call", help="send a signed patient-view")
    send.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    send.add_argument("--url", default=DEFAULT_URL, help=f"the service URL (default {DEFAULT_URL})")
    send.add_argument("--aud-array", action="store_true", help="send aud as an array")
    hooks = ("patient-view", "order-select", "order-sign")
    send.add_argument("--hook", choices=hooks, default="patient-view")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        return keygen(args.dir, args.iss)
    url = args.url
    if args.hook != "patient-view" and url == DEFAULT_URL:
        url = DEFAULT_URL.replace("poems-criteria", "poems-cidp-orders")
    return call(args.dir, url, args.aud_array, args.hook)


if __name__ == "__main__":
    sys.exit(main())
