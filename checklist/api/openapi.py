"""The OpenAPI description of the JSON API, generated from the engine's vocabulary and result types.

Generated rather than hand-written so that a new code or output field can
never be missing from the published schema.
"""

from __future__ import annotations

import functools
from typing import Any

from checklist.engine.diagnosis.result import Evaluation
from checklist.engine.evidence import EVIDENCE_TAGS
from checklist.engine.follow_up import inputs as fu
from checklist.engine.follow_up.result import DOMAINS
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
    document: dict[str, Any] = {
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
    document["paths"].update(follow_up_paths(errors))
    document["components"]["schemas"].update(follow_up_components())
    return document


# -- follow-up (design.md §3.9, clinical.md §h) ------------------------------------------

# clinical.md §h.2 "Outputs per visit and domain".
FOLLOW_UP_CATEGORIES = (
    "cr",
    "vgpr",
    "pr",
    "stable",
    "progression",
    "progression_confounded",
    "not_cr_unmeasurable",
    "improved",
    "worse",
    "not_evaluable",
    "not_done",
)
_DATE = {"type": "string", "format": "date", "description": "ISO date (YYYY-MM-DD), 1950-01-01 to today."}


def _follow_up_value(code: str) -> dict[str, Any]:
    if code in fu.LAB_CODES:
        return _lab_schema(code)
    if code in fu.NUMBER_CODES:
        low, high, integer, unit = fu.NUMBER_CODES[code]
        kind = "integer" if integer else "number"
        return {"type": kind, "minimum": low, "maximum": high, "nullable": True, "description": f"In {unit}."}
    if code in fu.CHOICE_CODES:
        return {"type": "string", "enum": [*fu.CHOICE_CODES[code], None], "nullable": True}
    if code in fu.DATE_CODES:
        return {**_DATE, "nullable": True}
    if code in fu.TEXT_CODES:
        return {"type": "string", "maxLength": fu.TEXT_CODES[code], "nullable": True}
    return {"type": "boolean", "nullable": True}


def follow_up_timeline_schema() -> dict[str, Any]:
    visit = {
        "type": "object",
        "required": ["date"],
        "additionalProperties": False,
        "properties": {
            "date": _DATE,
            "values": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "description": "clinical.md §h.2 codes; a code missing or null was not measured. "
                "A VEGF value needs vegf_specimen.",
                "properties": {code: _follow_up_value(code) for code in sorted(fu.VALUE_CODES)},
            },
        },
    }
    treatment = {
        "type": "object",
        "required": ["line", "type", "start"],
        "additionalProperties": False,
        "properties": {
            "line": {"type": "integer", "minimum": 1, "description": "1 = first line; each line once."},
            "type": {"type": "string", "enum": list(fu.TREATMENT_TYPES)},
            "start": _DATE,
            "end": {
                **_DATE,
                "nullable": True,
                "description": "Not before start; for radiation, the last fraction.",
            },
        },
    }
    return {
        "type": "object",
        "required": ["visits"],
        "additionalProperties": False,
        "description": "Two visits on one date, a treatment ending before it starts and a date in the "
        "future are refused (400) naming the field.",
        "properties": {
            "visits": {"type": "array", "minItems": 1, "items": visit},
            "treatments": {"type": "array", "nullable": True, "items": treatment},
        },
    }


_POINT = {
    "type": "object",
    "nullable": True,
    "required": ["value", "unit", "date", "shown"],
    "properties": {
        "value": {"type": "number"},
        "unit": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "shown": {"type": "string", "description": "As entered, with the canonical value when converted."},
    },
}


def follow_up_components() -> dict[str, Any]:
    ref = "#/components/schemas/"
    domain = {
        "type": "object",
        "required": [
            "category",
            "rule",
            "source",
            "evidence",
            "baseline",
            "nadir",
            "change_pct",
            "reason",
            "cautions",
        ],
        "properties": {
            "category": {"type": "string", "enum": list(FOLLOW_UP_CATEGORIES)},
            "rule": {"type": "string", "description": "The clinical.md §h rule that decided, e.g. H-V3."},
            "source": {"type": "string"},
            "evidence": {"type": "string", "enum": list(EVIDENCE_TAGS)},
            "baseline": {"$ref": ref + "FollowUpPoint"},
            "nadir": {"$ref": ref + "FollowUpPoint"},
            "change_pct": {"type": "number", "nullable": True},
            "reason": {"type": "string"},
            "cautions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "level", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "level": {"type": "string", "enum": ["major", "minor"]},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    trigger = {
        "type": "object",
        "required": ["domain", "rule", "category", "confounded", "reason"],
        "properties": {
            "domain": {"type": "string", "enum": list(DOMAINS)},
            "rule": {"type": "string"},
            "category": {"type": "string", "enum": list(FOLLOW_UP_CATEGORIES)},
            "confounded": {"type": "boolean"},
            "value": {"$ref": ref + "FollowUpPoint"},
            "nadir": {"$ref": ref + "FollowUpPoint"},
            "reason": {"type": "string"},
        },
    }
    visit = {
        "type": "object",
        "required": ["date", "domains", "possible_progression", "progression_label", "progression_triggers"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "domains": {
                "type": "object",
                "required": list(DOMAINS),
                "properties": {d: {"$ref": ref + "FollowUpDomain"} for d in DOMAINS},
            },
            "possible_progression": {
                "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["confounded"]}],
                "description": "true, false, or 'confounded' (raised only by confounded domains).",
            },
            "progression_label": {"type": "string"},
            "progression_triggers": {"type": "array", "items": {"$ref": ref + "FollowUpTrigger"}},
        },
    }
    result = {
        "type": "object",
        "required": ["content_version", "disclaimer", "visits"],
        "properties": {
            "content_version": {"type": "string"},
            "disclaimer": {"type": "string"},
            "visits": {
                "type": "array",
                "items": {"$ref": ref + "FollowUpVisit"},
                "description": "In date order.",
            },
        },
    }
    return {
        "FollowUpTimeline": follow_up_timeline_schema(),
        "FollowUpPoint": _POINT,
        "FollowUpDomain": domain,
        "FollowUpTrigger": trigger,
        "FollowUpVisit": visit,
        "FollowUp": result,
    }


def follow_up_paths(errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "/api/v1/follow-up": {
            "post": {
                "operationId": "followUp",
                "summary": "Each visit's response per domain after treatment (clinical.md §h)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/FollowUpTimeline"}}
                    },
                },
                "responses": {
                    "200": _json("FollowUp", "One result per visit, in date order."),
                    "400": errors,
                    "413": errors,
                    "415": errors,
                },
            }
        }
    }


def __getattr__(name: str) -> Any:
    # EVALUATION: the response schema, for tests that check the contract keys against it.
    if name == "EVALUATION":
        return evaluation_components()["Evaluation"]
    raise AttributeError(name)
