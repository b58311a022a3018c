"""The OpenAPI description of the JSON API, generated from the engine's vocabulary.

Generated rather than hand-written so that a new code can never be missing
from the published schema.
"""

from __future__ import annotations

from typing import Any

from .engine.vocabulary import FINDINGS, LABS, LabKind


def _lab_schema(code: str) -> dict[str, Any]:
    lab = LABS[code]
    if lab.kind is LabKind.CATEGORY:
        # OpenAPI 3.0.3: with an enum, null is allowed only when the enum lists it.
        return {"type": "string", "enum": [*lab.choices, None], "nullable": True}
    number: dict[str, Any] = {"type": "integer" if lab.kind is LabKind.INTEGER else "number"}
    if lab.minimum is not None:
        number["minimum"] = lab.minimum
    if lab.maximum is not None:
        number["maximum"] = lab.maximum
    with_unit = {
        "type": "object",
        "required": ["value", "unit"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "number"},
            "unit": {"type": "string", "enum": list(lab.allowed_units)},
        },
    }
    return {
        "description": f"In {lab.unit}, or as a value with one of the listed units.",
        "oneOf": [number, with_unit],
        "nullable": True,
    }


ERRORS: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        }
    },
}

_STATUS = {"type": "string", "enum": ["met", "not_met", "incomplete"]}

EVALUATION = {
    "type": "object",
    "required": [
        "criteria_set",
        "content_version",
        "status",
        "meets_criteria",
        "mandatory_met",
        "major_met",
        "minor_met",
        "criteria",
        "missing",
        "differentials",
        "cautions",
        "disclaimer",
    ],
    "properties": {
        "criteria_set": {
            "type": "object",
            "required": ["slug", "name", "version"],
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "version": {"type": "string"},
            },
        },
        "content_version": {"type": "string"},
        "status": _STATUS,
        "meets_criteria": {"type": "boolean"},
        "mandatory_met": {"type": "array", "items": {"type": "string"}},
        "major_met": {"type": "array", "items": {"type": "string"}},
        "minor_met": {"type": "array", "items": {"type": "string"}},
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "group", "status", "reasons"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "group": {"type": "string", "enum": ["mandatory", "major", "minor"]},
                    "status": {"type": "string", "enum": ["met", "not_met", "unknown"]},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "to_settle": {"type": "string"},
                },
            },
        },
        "missing": {"type": "array", "items": {"type": "string"}},
        "differentials": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "reasons"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "cautions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
        "warnings": {"type": "array", "items": ERRORS["properties"]["errors"]["items"]},
        "comparison": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["criteria_set", "name", "status", "meets_criteria", "missing", "explanation"],
                "properties": {
                    "criteria_set": {"type": "string"},
                    "name": {"type": "string"},
                    "status": _STATUS,
                    "meets_criteria": {"type": "boolean"},
                    "missing": {"type": "array", "items": {"type": "string"}},
                    "explanation": {"type": "string"},
                },
            },
        },
        "disclaimer": {"type": "string"},
    },
}


def case_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "criteria_set": {
                "type": "string",
                "nullable": True,
                "description": "mayo-2007 (default), mayo-2003 or suichi-2019; missing or null: the default.",
            },
            "compare": {"type": "boolean", "description": "Also evaluate under every criteria set."},
            "findings": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "description": "true = present, false = absent; missing or null = not assessed.",
                "properties": {code: {"type": "boolean", "nullable": True} for code in sorted(FINDINGS)},
            },
            "labs": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {code: _lab_schema(code) for code in LABS},
            },
        },
    }


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def openapi_document(server: str) -> dict[str, Any]:
    errors = _json("Errors", "Bad input: every problem, naming the field and what is allowed.")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "POEMSaid API",
            "version": "1",
            "description": "Evaluates a case against the POEMS syndrome criteria. Decision support only: "
            "not a diagnosis. Nothing sent is stored or logged.",
        },
        "servers": [{"url": server.rstrip("/")}],
        "paths": {
            "/api/v1/evaluate": {
                "post": {
                    "operationId": "evaluate",
                    "summary": "Evaluate one case",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
                    },
                    "responses": {
                        "200": _json("Evaluation", "The evaluation."),
                        "400": errors,
                        "413": errors,
                        "415": errors,
                    },
                }
            },
            "/api/v1/criteria-sets": {
                "get": {
                    "operationId": "criteriaSets",
                    "summary": "The criteria sets, their rules and review status",
                    "responses": {"200": _json({"type": "object"}, "The criteria sets.")},
                }
            },
            "/api/v1/vocabulary": {
                "get": {
                    "operationId": "vocabulary",
                    "summary": "Every finding, lab, criterion, differential and caution code",
                    "responses": {"200": _json({"type": "object"}, "The vocabulary.")},
                }
            },
        },
        "components": {"schemas": {"Case": case_schema(), "Evaluation": EVALUATION, "Errors": ERRORS}},
    }
