"""The checklist form: one compact line per criterion, everything else in place beneath it.

Where each finding and lab appears comes from content: a finding that counts
towards a criterion (``Finding.criterion``) sits under that criterion; every
other finding and lab sits under the criterion its content section belongs to
(``SECTION_HOME``), in content ``order``. Which criteria are mandatory, major or
minor, and the minimums, come from the chosen criteria set. So an editor's
reordering or regrouping shows on the next page load, and there is no second
list of codes to keep in step.

The form only turns posted fields into the engine's case: each lab goes
through the engine's own per-field check (``parse_lab``, the function the API
and CLI reach through ``parse_case``), so a message is attached to the field
it concerns by construction, and a bad value is left out of the evaluation
instead of blanking it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings

from .content import Snapshot
from .engine import InputError, parse_case
from .engine.inputs import Case, FieldError, parse_lab
from .engine.rulebook import display_unit
from .engine.vocabulary import LABS, LabKind

NOT_ASSESSED, PRESENT, ABSENT = "", "yes", "no"
TRI_STATE = [(PRESENT, "Present"), (ABSENT, "Absent"), (NOT_ASSESSED, "Not assessed")]

# A content section's place on the form: the criterion whose line it opens
# under. Sections not listed get their own disclosure after the criteria.
SECTION_HOME: dict[str, str] = {
    "neuropathy": "polyneuropathy",
    "clone": "monoclonal_plasma_cell_disorder",
    "paraprotein": "monoclonal_plasma_cell_disorder",
    "al_flags": "monoclonal_plasma_cell_disorder",
    "bone": "sclerotic_bone_lesions",
    "organomegaly": "organomegaly",
    "volume": "extravascular_volume_overload",
    "endocrine": "endocrinopathy",
    "skin": "skin_changes",
    "vegf": "vegf_elevated",
    "vegf_confounders": "vegf_elevated",
}

# The labs a criterion's rule reads (checklist/engine/derive.py). They stay on
# the criterion's line, always visible: the answer cannot be reached without them.
CRITERION_LABS: dict[str, tuple[str, ...]] = {
    "vegf_elevated": ("vegf_pg_ml", "vegf_specimen"),
    "thrombocytosis_polycythemia": ("platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct", "sex"),
}
# How many of those fit on the line itself; the rest open beneath it.
INLINE_LABS = 2

# Units a clinician in an SI laboratory reads; the canonical units are the US ones.
SI_UNITS = frozenset({"g/L", "mmol/L", "umol/L", "10^9/L", "L/L", "pg/mL", "mg/L", "ng/L"})


def si_unit(code: str) -> str:
    lab = LABS[code]
    return next((u for u in lab.allowed_units if u in SI_UNITS), lab.unit)


def default_unit(code: str, system: str) -> str:
    return si_unit(code) if system == "SI" else LABS[code].unit


def unit_field(code: str) -> str:
    return f"{code}__unit"


def field_id(code: str, kind: str) -> str:
    """The id the error summary links to: the first radio of a tri-state, else the input."""
    return f"id_{code}_0" if kind == "finding" else f"id_{code}"


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    kind: str  # finding | number | category
    label: str
    help: str = ""
    units: tuple[str, ...] = ()
    si_unit: str = ""
    us_unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """A titled run of items inside a disclosure (a content section)."""

    title: str
    items: tuple[Item, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)


@dataclass(frozen=True, slots=True)
class Row:
    """One criterion: its own tri-state line, the labs it reads, and what opens beneath it."""

    code: str
    name: str
    letter: str
    help: str
    investigations: str
    inline: tuple[Item, ...]
    more: tuple[Group, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for g in self.more for i in g.items)


@dataclass(frozen=True, slots=True)
class SetGroup:
    role: str
    title: str
    intro: str
    criteria: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    rows: dict[str, Row]
    extra: tuple[Group, ...]  # after the criteria: other signs, other labs
    sets: dict[str, tuple[SetGroup, ...]]  # the criteria's grouping under each set
    items: dict[str, Item] = field(default_factory=dict)


_ROLE_TITLES = {
    "mandatory": "Mandatory criteria",
    "major": "Other major criteria",
    "minor": "Minor criteria",
    "none": "Not counted in this set",
}


def _set_groups(snap: Snapshot, slug: str) -> tuple[SetGroup, ...]:
    rule = snap.book.sets[slug]
    counted = set(rule.mandatory) | set(rule.major) | set(rule.minor)
    order = [c["code"] for c in snap.criteria]
    groups = [
        SetGroup("mandatory", _ROLE_TITLES["mandatory"], f"{rule.name}: all are required.", rule.mandatory),
        SetGroup(
            "major", _ROLE_TITLES["major"], f"{rule.name}: at least {rule.major_min} needed.", rule.major
        ),
        SetGroup(
            "minor", _ROLE_TITLES["minor"], f"{rule.name}: at least {rule.minor_min} needed.", rule.minor
        ),
        SetGroup(
            "none",
            _ROLE_TITLES["none"],
            f"Recorded for the other sets and the differentials; {rule.name} does not count them.",
            tuple(c for c in order if c not in counted),
        ),
    ]
    return tuple(groups)


def _item(code: str, words: dict[str, Any]) -> Item:
    label, help_text = words.get("label", code), words.get("help_text", "")
    lab = LABS.get(code)
    if lab is None:
        return Item(code, "finding", label, help_text)
    if lab.kind is LabKind.CATEGORY:
        return Item(
            code,
            "category",
            label,
            help_text,
            choices=(("", "Not assessed"), *((c, c.replace("_", " ")) for c in lab.choices)),
        )
    return Item(
        code,
        "number",
        label,
        help_text,
        units=lab.allowed_units,
        si_unit=si_unit(code),
        us_unit=lab.unit,
    )


def _build_layout(snap: Snapshot) -> Layout:
    criteria = {c["code"]: c for c in snap.criteria}
    section_names = dict(_section_choices())
    inline_of = {lab: crit for crit, labs in CRITERION_LABS.items() for lab in labs[:INLINE_LABS]}
    more_labs = {lab: crit for crit, labs in CRITERION_LABS.items() for lab in labs[INLINE_LABS:]}
    # (home criterion or "", section) -> items, in content order.
    placed: dict[tuple[str, str], list[Item]] = {}
    items: dict[str, Item] = {}
    for record in (*snap.findings, *snap.labs):
        code = record["code"]
        if code in criteria:
            continue  # a criterion's own flag is the line itself
        item = _item(code, record)
        items[code] = item
        if code in inline_of:
            continue
        linked = record.get("criterion")
        section = record.get("section", "")
        if code in more_labs:
            home = more_labs[code]
        elif linked:
            home = linked[0] if isinstance(linked, list | tuple) else str(linked)
        else:
            home = SECTION_HOME.get(section, "")
        placed.setdefault((home, section), []).append(item)
    for key in placed:
        placed[key].sort(key=lambda i: _order(snap, i.code))

    rows: dict[str, Row] = {}
    for crit in snap.criteria:
        code = crit["code"]
        items[code] = Item(code, "finding", crit["name"], crit.get("help_text", ""))
        groups = tuple(
            Group(section_names.get(section, section), tuple(found))
            for (home, section), found in placed.items()
            if home == code
        )
        rows[code] = Row(
            code=code,
            name=crit["name"],
            letter=crit.get("letter", ""),
            help=crit.get("help_text", ""),
            investigations=crit.get("investigations", ""),
            inline=tuple(items[c] for c in CRITERION_LABS.get(code, ())[:INLINE_LABS] if c in items),
            more=groups,
        )
    extra = tuple(
        Group(section_names.get(section, section), tuple(found))
        for (home, section), found in placed.items()
        if not home
    )
    sets = {s["slug"]: _set_groups(snap, s["slug"]) for s in snap.criteria_sets}
    return Layout(rows=rows, extra=extra, sets=sets, items=items)


def _order(snap: Snapshot, code: str) -> tuple[int, str]:
    for record in (*snap.findings, *snap.labs):
        if record["code"] == code:
            return (int(record.get("order", 0)), code)
    return (0, code)


def _section_choices() -> list[tuple[str, str]]:
    from .models import Section

    return [(str(value), str(label)) for value, label in Section.choices]


_LAYOUTS: dict[str, Layout] = {}


def layout_for(snap: Snapshot) -> Layout:
    """The form's layout, built once per content version."""
    found = _LAYOUTS.get(snap.stamp)
    if found is None:
        found = _build_layout(snap)
        _LAYOUTS.clear()
        _LAYOUTS[snap.stamp] = found
    return found


def site_units() -> str:
    """The site's default unit system for lab entry: 'SI' or 'US' (LAB_UNITS)."""
    return "US" if str(getattr(settings, "LAB_UNITS", "SI")).upper() == "US" else "SI"


class CaseForm(forms.Form):
    """Binds the posted checklist. After ``is_valid()``, ``case`` holds every valid field.

    ``case`` is set even when some fields are in error: those fields are left
    out, so the answer never goes blank because of one bad value.
    """

    def __init__(self, *args: Any, snapshot: Snapshot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshot = snapshot
        self.layout = layout_for(snapshot)
        self.case: Case | None = None
        self.payload: dict[str, Any] = {}
        self.warnings: dict[str, str] = {}
        # Fields depend only on content: built once per content version and
        # shared (never mutated per request; errors live on the form).
        self.fields = dict(_fields_for(snapshot, self.layout))

    def _clean_fields(self) -> None:
        """Clean only what was given. Django's version builds a BoundField for each of
        ~140 fields on every live update; an empty field is simply "not given" here."""
        data, fields = self.data, self.fields
        for name in data:
            form_field = fields.get(name)
            raw = data.get(name)
            if form_field is None or raw is None or raw == "":
                continue  # unknown (ignored, as Django does) or not given
            try:
                self.cleaned_data[name] = form_field.clean(raw)
            except forms.ValidationError as error:
                self.add_error(name, error)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            for name in self.data:
                if name in self.fields and len(getlist(name)) > 1:
                    self.add_error(name, "Given twice; enter it once.")
        findings: dict[str, bool] = {}
        labs: dict[str, Any] = {}
        items = self.layout.items
        # Only what was given: a missing field is "not assessed", like an empty one.
        for code in list(data):
            item = items.get(code)
            if item is None or code in self.errors:
                continue
            raw = data.get(code)
            if item.kind == "finding":
                if raw == PRESENT:
                    findings[code] = True
                elif raw == ABSENT:
                    findings[code] = False
                continue
            if raw in (None, ""):
                continue
            value: Any = raw
            if item.kind == "number":
                if unit_field(code) in self.errors:
                    continue
                # The text as typed: the engine reads it (decimal comma, thousands
                # separators refused), the one reading for the form, API and CLI.
                value = {"value": str(raw), "unit": data.get(unit_field(code)) or LABS[code].unit}
            errors: list[FieldError] = []
            warnings: list[FieldError] = []
            reading = parse_lab(code, value, errors, warnings, text=True)
            if errors:
                for error in errors:
                    message = error.message[0].upper() + error.message[1:]
                    self.add_error(unit_field(code) if error.field.endswith(".unit") else code, message)
                continue
            if warnings:
                self.warnings[code] = warnings[0].message
            if item.kind == "number" and reading is not None:
                # The number as read, in the unit entered: the API's input shape.
                number = reading.entered.value if reading.entered is not None else reading.value
                value = {"value": number, "unit": value["unit"]}
            labs[code] = value
        payload: dict[str, Any] = {"findings": findings, "labs": labs, "compare": True}
        if data.get("criteria_set"):
            payload["criteria_set"] = data["criteria_set"]
        self.payload = payload  # the API-shaped input: staff can keep it as a regression case
        try:
            self.case = parse_case(payload, self.snapshot.book.sets, text=True)
        except InputError as exc:  # not expected: every field was checked above
            for error in exc.errors:
                self.add_error(None, error.message)
            self.case = parse_case({"compare": True}, self.snapshot.book.sets)
        return data

    def error_list(self) -> list[dict[str, str]]:
        """Each error with the field's label and the id to link to (error summary)."""
        out = []
        for name, messages in self.errors.items():
            code = name.removesuffix("__unit")
            item = self.layout.items.get(code)
            label = item.label if item else self.fields[name].label if name in self.fields else ""
            kind = item.kind if item else ""
            anchor = (
                f"id_{name}" if name.endswith("__unit") or name == "criteria_set" else field_id(code, kind)
            )
            for message in messages:
                out.append({"name": name, "label": str(label or ""), "message": str(message), "id": anchor})
        return out

    def entered(self) -> list[dict[str, str]]:
        """What was entered, as entered (value and unit as typed), for the report."""
        cached: list[dict[str, str]] | None = getattr(self, "_entered", None)
        if cached is not None:
            return cached
        out: list[dict[str, str]] = []
        self._entered = out
        if not self.is_bound:
            return out
        for code, item in self.layout.items.items():
            raw = self.data.get(code, "")
            if raw in ("", None) or code in self.errors:
                continue
            if item.kind == "finding":
                shown = {"yes": "present", "no": "absent"}.get(raw, "")
                if not shown:
                    continue
            elif item.kind == "number":
                unit = self.data.get(unit_field(code)) or LABS[code].unit
                shown = f"{raw} {display_unit(unit).strip()}".strip()
            else:
                shown = str(raw).replace("_", " ")
            out.append({"code": code, "label": item.label, "value": shown})
        return out


_FIELDS: dict[str, dict[str, forms.Field]] = {}


def _fields_for(snapshot: Snapshot, layout: Layout) -> dict[str, forms.Field]:
    fields = _FIELDS.get(snapshot.stamp)
    if fields is None:
        fields = _build_fields(snapshot, layout)
        _FIELDS.clear()
        _FIELDS[snapshot.stamp] = fields
    return fields


def _build_fields(snapshot: Snapshot, layout: Layout) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {
        "criteria_set": forms.ChoiceField(
            label="Criteria set",
            required=False,
            choices=[(s["slug"], s["name"]) for s in snapshot.criteria_sets],
            initial=snapshot.book.default_set,
        )
    }
    for code, item in layout.items.items():
        if item.kind == "finding":
            fields[code] = forms.ChoiceField(label=item.label, choices=TRI_STATE, required=False)
        elif item.kind == "category":
            fields[code] = forms.ChoiceField(label=item.label, choices=list(item.choices), required=False)
        else:
            fields[code] = forms.CharField(label=item.label, required=False, max_length=32)
            fields[unit_field(code)] = forms.ChoiceField(
                label=f"{item.label} unit", choices=[(u, u) for u in item.units], required=False
            )
    return fields
