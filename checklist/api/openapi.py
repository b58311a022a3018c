"""The OpenAPI description of the JSON API, generated from the engine's vocabulary and result types.

Generated rather than hand-written so that a new code or output field can
never be missing from the published schema.
"""

from __future__ import annotations

import functools
from typing import Any

from checklist.engine.diagnosis.result import Evaluation
from checklist.engine.units import accepted_spellings
from checklist.engine.vocabulary import FINDINGS, LABS, LabKind


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
            "unit": {"type": "string", "enum": list(accepted_spellings(code))},
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


def _openapi_30(node: Any) -> Any:
    """JSON Schema (as msgspec writes it) -> the OpenAPI 3.0.3 dialect: nullable, typed enums."""
    if isinstance(node, list):
        return [_openapi_30(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _openapi_30(v) for k, v in node.items()}
    options = node.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del node["anyOf"]
        inner = rest[0] if len(rest) == 1 else {"anyOf": rest}
        merged = {"allOf": [inner]} if "$ref" in inner else dict(inner)
        node = {**node, **merged, "nullable": True}
    if "enum" in node and "type" not in node:
        node["type"] = "string"
    return node


@functools.cache
def evaluation_components() -> dict[str, Any]:
    """The response schemas, generated from the engine's result types (engine/result.py).

    One definition of the output: adding a field to a result class adds it
    here, and schemathesis checks every response against it.
    """
    import msgspec

    (_root,), components = msgspec.json.schema_components(
        [Evaluation], ref_template="#/components/schemas/{name}"
    )
    return {name: _openapi_30(schema) for name, schema in components.items()}


def case_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "criteria_set": {
                "type": "string",
                "nullable": True,
                # The slugs are content: listed by GET /api/v1/criteria-sets, not written here.
                "description": "A set's slug (GET /api/v1/criteria-sets); missing or null: the default.",
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


def screen_input_schema() -> dict[str, Any]:
    """The screen's input (design.md §3.10), from the screen rules: every code the engine reads."""
    from checklist.content.care_rules import screen_rules
    from checklist.engine.screen.rules import POLICIES

    rules = screen_rules()
    values: dict[str, Any] = {}
    for code in (*rules.input_codes, *rules.context_codes):
        spec = rules.inputs[code]
        if spec.kind == "finding":
            values[code] = {"type": "boolean", "nullable": True, "description": spec.label}
        elif spec.kind == "date":
            values[code] = {"type": "string", "format": "date", "nullable": True, "description": spec.label}
        else:
            values[code] = {**_lab_schema(spec.lab), "description": spec.label}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "values": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "description": "true = yes, false = no; missing or null = not assessed.",
                "properties": values,
            },
            "screen_policy": {
                "type": "string",
                "enum": [*POLICIES, None],
                "nullable": True,
                "description": "Missing or null: the content default.",
            },
        },
    }


SCREEN_RESULT: dict[str, Any] = {
    "type": "object",
    "required": [
        "category",
        "message",
        "red_flags",
        "tests",
        "notes",
        "not_assessed",
        "content_version",
        "disclaimer",
    ],
    "properties": {
        "category": {"type": "string"},
        "message": {"type": "string"},
        "red_flags": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "reason", "source", "evidence", "supportive"],
                "properties": {
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                    "source": {"type": "string"},
                    "evidence": {
                        "type": "string",
                        "enum": ["read_abstract", "read_table", "secondary", "unverified", "app_convention"],
                    },
                    "supportive": {"type": "boolean"},
                },
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "why"],
                "properties": {"code": {"type": "string"}, "why": {"type": "string"}},
            },
        },
        "notes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "not_assessed": {"type": "array", "items": {"type": "string"}},
        "content_version": {"type": "string"},
        "disclaimer": {"type": "string"},
    },
}


def screen_path(errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": "screen",
            "summary": "Screen a CIDP clinic patient for POEMS: what to test next, and why",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScreenInput"}}},
            },
            "responses": {
                "200": _json("ScreenResult", "The screen's answer."),
                "400": errors,
                "413": errors,
                "415": errors,
            },
        }
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
            "/api/v1/screen": screen_path(errors),
        },
        "components": {
            "schemas": {
                "Case": case_schema(),
                **evaluation_components(),
                "Errors": ERRORS,
                "ScreenInput": screen_input_schema(),
                "ScreenResult": SCREEN_RESULT,
            }
        },
    }


def __getattr__(name: str) -> Any:
    # EVALUATION: the response schema, for tests that check the contract keys against it.
    if name == "EVALUATION":
        return evaluation_components()["Evaluation"]
    raise AttributeError(name)
