"""The checklist form: one compact line per criterion, everything else in place beneath it.

Where each finding and lab appears comes from content: under the criterion an
editor chose (``shown_under``), else under the criterion it counts towards
(``Finding.criterion``), else in its section's own disclosure after the
criteria; grouped by content section, in content ``order``. The first labs a
criterion reads (the engine's ``CRITERION_LABS``) sit on its line when they are
shown under it. Which criteria are mandatory, major or minor, and the
minimums, come from the chosen criteria set. So an editor's reordering or
regrouping shows once the draft is published, and there is no second list of
codes to keep in step.

The form only puts posted fields into the API's input shape and hands them to
the engine's ``read_case``, the reading the API and the CLI use; each problem
comes back naming its code, so a message lands on the field it concerns, and a
bad value is left out of the evaluation instead of blanking it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, TooManyFieldsSent
from django.forms.utils import ErrorDict
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import gettext_noop, pgettext_lazy

from checklist.content.rule_book import Snapshot
from checklist.engine.inputs import Case, display_unit, read_case
from checklist.engine.vocabulary import CRITERION_LABS, LABS, LabKind

NOT_ASSESSED, PRESENT, ABSENT = "", "yes", "no"
TRI_STATE = [(PRESENT, _lazy("Present")), (ABSENT, _lazy("Absent")), (NOT_ASSESSED, _lazy("Not assessed"))]

# The words a category lab's choices are shown with (the value posted is the code). A context
# keeps them apart from the engine's own "kappa"/"serum" msgids; the English reads as before
# ("M", "light chain only"), so only the translated pages change.
_CHOICE_WORDS = {
    "M": pgettext_lazy("sex choice", "M"),
    "F": pgettext_lazy("sex choice", "F"),
    "serum": pgettext_lazy("lab choice", "serum"),
    "plasma": pgettext_lazy("lab choice", "plasma"),
    "unknown": pgettext_lazy("lab choice", "unknown"),
    "light_chain_only": pgettext_lazy("lab choice", "light chain only"),
    "biclonal": pgettext_lazy("lab choice", "biclonal"),
    "none": pgettext_lazy("lab choice", "none"),
    "lambda": pgettext_lazy("lab choice", "lambda"),
    "kappa": pgettext_lazy("lab choice", "kappa"),
    "kappa_and_lambda": pgettext_lazy("lab choice", "kappa and lambda"),
}


def choice_word(code: str) -> str:
    """A category choice in the active language; a code with no word (IgG) as it is."""
    word = _CHOICE_WORDS.get(code)
    return str(word) if word is not None else code.replace("_", " ")


# Units that are words, in the active language; a unit symbol (pg/mL, 10^9/L) stays as it is
# in every language (design.md §3.12).
_UNIT_WORDS = {
    "years": pgettext_lazy("unit", "years"),
    "count": pgettext_lazy("unit", "count"),
    "ratio": pgettext_lazy("unit", "ratio"),
    "% predicted": pgettext_lazy("unit", "% predicted"),
}


def unit_word(unit: str) -> str:
    """How a unit is shown beside a number: its word in the active language, else its symbol
    as the engine spells it for display (µ for u)."""
    word = _UNIT_WORDS.get(unit)
    return str(word) if word is not None else display_unit(unit).strip()


# How many of a criterion's own labs (vocabulary.CRITERION_LABS) fit on its line; the rest
# go where content shows them.
INLINE_LABS = 2


def si_unit(code: str) -> str:
    return LABS[code].si


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
    # Criteria sets that do not count this sub-finding (``Finding.not_in_sets``), by slug.
    not_in: tuple[str, ...] = ()
    # Fields shown in English for want of a translation ("label", "help"): marked lang="en-GB".
    english: tuple[str, ...] = ()


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
    # Fields shown in English for want of a translation ("name", "help", "investigations").
    english: tuple[str, ...] = ()

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
    position: dict[str, int] = field(default_factory=dict)  # each code's place on the page
    # Per set: the sub-findings it does not count, and the note shown next to them.
    not_counted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_counted_notes: dict[str, str] = field(default_factory=dict)


_ROLE_TITLES = {
    "mandatory": gettext_noop("Mandatory criteria"),
    "major": gettext_noop("Other major criteria"),
    "minor": gettext_noop("Minor criteria"),
    "none": gettext_noop("Not counted in this set"),
}


def _set_groups(snap: Snapshot, slug: str) -> tuple[SetGroup, ...]:
    rule = snap.book.sets[slug]
    counted = set(rule.mandatory) | set(rule.major) | set(rule.minor)
    order = [c["code"] for c in snap.criteria]
    groups = [
        SetGroup(
            "mandatory",
            _(_ROLE_TITLES["mandatory"]),
            _("%(set)s: all are required.") % {"set": rule.name},
            rule.mandatory,
        ),
        SetGroup(
            "major",
            _(_ROLE_TITLES["major"]),
            _("%(set)s: at least %(num)s needed.") % {"set": rule.name, "num": rule.major_min},
            rule.major,
        ),
        SetGroup(
            "minor",
            _(_ROLE_TITLES["minor"]),
            _("%(set)s: at least %(num)s needed.") % {"set": rule.name, "num": rule.minor_min},
            rule.minor,
        ),
        SetGroup(
            "none",
            _(_ROLE_TITLES["none"]),
            _("Recorded for the other sets and the differentials; %(set)s does not count them.")
            % {"set": rule.name},
            tuple(c for c in order if c not in counted),
        ),
    ]
    return tuple(groups)


def _item(code: str, words: dict[str, Any]) -> Item:
    label, help_text = words.get("label", code), words.get("help_text", "")
    english = _english(words, label="label", help="help_text")
    lab = LABS.get(code)
    if lab is None:
        # Natural keys: [["mayo-2003"]] in records; a bare slug is read the same way.
        not_in = tuple(
            str(s[0] if isinstance(s, list | tuple) else s) for s in words.get("not_in_sets") or ()
        )
        return Item(code, "finding", label, help_text, not_in=not_in, english=english)
    if lab.kind is LabKind.CATEGORY:
        return Item(
            code,
            "category",
            label,
            help_text,
            choices=(("", _("Not assessed")), *((c, choice_word(c)) for c in lab.choices)),
            english=english,
        )
    return Item(
        code,
        "number",
        label,
        help_text,
        units=lab.allowed_units,
        si_unit=si_unit(code),
        us_unit=lab.unit,
        english=english,
    )


def _english(record: dict[str, Any], **names: str) -> tuple[str, ...]:
    """The item's names (keyword) whose record field (value) fell back to English."""
    fell_back = record.get("in_english", ())
    return tuple(name for name, field in names.items() if field in fell_back)


def _home(record: dict[str, Any], criteria: dict[str, Any]) -> str:
    """The criterion an item opens under ("" = its section's disclosure after the criteria)."""
    for name in ("shown_under", "criterion"):  # the editor's placement, else what it counts towards
        linked = record.get(name)
        if linked:
            code = str(linked[0]) if isinstance(linked, list | tuple) else str(linked)
            # A criterion missing from this release never hides an item: it goes after the criteria.
            return code if code in criteria else ""
    return ""


def _build_layout(snap: Snapshot) -> Layout:
    criteria = {c["code"]: c for c in snap.criteria}
    section_names = dict(_section_choices())
    # A criterion's first labs sit on its line, when content shows them under it.
    line_of = {lab: crit for crit, labs in CRITERION_LABS.items() for lab in labs[:INLINE_LABS]}
    on_line: set[str] = set()
    # (home criterion or "", section) -> items, in content order.
    placed: dict[tuple[str, str], list[Item]] = {}
    items: dict[str, Item] = {}
    for record in (*snap.findings, *snap.labs):
        code = record["code"]
        if code in criteria:
            continue  # a criterion's own flag is the line itself
        item = _item(code, record)
        items[code] = item
        home = _home(record, criteria)
        if home and line_of.get(code) == home:
            on_line.add(code)
            continue
        placed.setdefault((home, record.get("section", "")), []).append(item)
    for key in placed:
        placed[key].sort(key=lambda i: _order(snap, i.code))

    rows: dict[str, Row] = {}
    for crit in snap.criteria:
        code = crit["code"]
        items[code] = Item(
            code,
            "finding",
            crit["name"],
            crit.get("help_text", ""),
            english=_english(crit, label="name", help="help_text"),
        )
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
            inline=tuple(items[c] for c in CRITERION_LABS.get(code, ())[:INLINE_LABS] if c in on_line),
            more=groups,
            english=_english(crit, name="name", help="help_text", investigations="investigations"),
        )
    extra = tuple(
        Group(section_names.get(section, section), tuple(found))
        for (home, section), found in placed.items()
        if not home
    )
    sets = {s["slug"]: _set_groups(snap, s["slug"]) for s in snap.criteria_sets}
    not_counted = {slug: tuple(code for code, item in items.items() if slug in item.not_in) for slug in sets}
    notes = {s["slug"]: _("Not counted in %(set)s") % {"set": s["name"]} for s in snap.criteria_sets}
    # Page order: each criterion's line, its labs, what opens beneath it; then the rest.
    order = [c for row in rows.values() for c in (row.code, *(i.code for i in row.inline), *row.codes)]
    order += [i.code for g in extra for i in g.items]
    position = {code: n for n, code in enumerate(dict.fromkeys(order))}
    for code in items:  # anything not placed (none today) sorts last, never raises
        position.setdefault(code, len(position))
    return Layout(
        rows=rows,
        extra=extra,
        sets=sets,
        items=items,
        position=position,
        not_counted=not_counted,
        not_counted_notes=notes,
    )


def _order(snap: Snapshot, code: str) -> tuple[int, str]:
    for record in (*snap.findings, *snap.labs):
        if record["code"] == code:
            return (int(record.get("order", 0)), code)
    return (0, code)


# The sections' titles (content.models.Section's labels, which stay English for the admin), as
# the form titles its groups in the page's language; a section added there without a word here
# shows its English label.
_SECTION_WORDS = {
    "criteria": gettext_noop("Criteria"),
    "neuropathy": gettext_noop("Neuropathy"),
    "clone": gettext_noop("Clone and antibodies"),
    "bone": gettext_noop("Bone"),
    "organomegaly": gettext_noop("Organomegaly"),
    "volume": gettext_noop("Extravascular volume"),
    "endocrine": gettext_noop("Endocrine"),
    "skin": gettext_noop("Skin"),
    "other": gettext_noop("Other signs (not counted)"),
    "al_flags": gettext_noop("AL amyloidosis clues"),
    "vegf_confounders": gettext_noop("VEGF confounders"),
    "demography": gettext_noop("Patient"),
    "blood": gettext_noop("Blood counts and chemistry"),
    "paraprotein": gettext_noop("Paraprotein"),
    "vegf": gettext_noop("VEGF"),
    "investigations": gettext_noop("Other investigations"),
}


def _section_choices() -> list[tuple[str, str]]:
    from checklist.content.models import Section

    # Said when the layout is built, which is cached per language.
    return [(str(value), _(_SECTION_WORDS.get(str(value), str(label)))) for value, label in Section.choices]


_LAYOUTS: dict[tuple[str, str], Layout] = {}


def layout_for(snap: Snapshot) -> Layout:
    """The form's layout, built once per content version and language (its group titles and
    notes are interface words, in the page's language)."""
    key = (snap.stamp, translation.get_language() or settings.LANGUAGE_CODE)
    found = _LAYOUTS.get(key)
    if found is None:
        found = _build_layout(snap)
        if len(_LAYOUTS) >= 12:  # per language of the live release, and a few older
            _LAYOUTS.clear()
        _LAYOUTS[key] = found
    return found


def site_units() -> str:
    """The site's default unit system for lab entry: 'SI' or 'US' (LAB_UNITS)."""
    return "US" if str(getattr(settings, "LAB_UNITS", "SI")).upper() == "US" else "SI"


class FormData(dict[str, str]):
    """Posted form fields: the last value of each name, and the names given more than once.

    Read straight from the urlencoded body (``read_posted``): Django's QueryDict
    costs about 3 us per field, and the live result is posted on every click.
    """

    twice: frozenset[str] = frozenset()


def form_data(pairs: list[tuple[str, str]]) -> FormData:
    data = FormData(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        repeated: set[str] = set()
        for name, _value in pairs:
            (repeated if name in seen else seen).add(name)
        data.twice = frozenset(repeated)
    return data


def read_posted(request: HttpRequest) -> Any:
    """The posted checklist fields, or None when nothing was posted.

    An urlencoded body (what the page and htmx send) is split here; anything
    else goes through Django's parser. Django's limits hold either way:
    ``request.body`` refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE, and more
    fields than DATA_UPLOAD_MAX_NUMBER_FIELDS is refused as Django would (400).
    """
    if request.method != "POST":
        return None
    if request.content_type != "application/x-www-form-urlencoded":
        return request.POST or None
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    pairs = split_urlencoded(request.body.decode(request.encoding or "utf-8", "replace"), limit)
    return form_data(pairs) or None


def split_urlencoded(text: str, limit: int | None) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, max_num_fields=limit)``, about 3x faster.

    Most names and values of the checklist need no decoding (codes, yes/no,
    numbers), so ``unquote_plus`` runs only where a ``%`` or ``+`` says it must.
    The result is the standard library's, field for field (a property test
    compares the two); more than ``limit`` fields is refused as Django would.
    """
    if limit is not None and text and text.count("&") >= limit:
        raise TooManyFieldsSent(f"The number of fields exceeded {limit}.")
    pairs = []
    for chunk in text.split("&"):
        if not chunk:
            continue
        name, _eq, value = chunk.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        pairs.append((name, value))
    return pairs


# Longer than any number or unit anyone types; the page's inputs say the same (maxlength).
MAX_TEXT = 32


class CaseForm(forms.Form):
    """Binds the posted checklist. After ``is_valid()``, ``case`` holds every valid field.

    The posted fields are put in the API's input shape (design.md §3.2: findings
    true/false, each lab ``{"value": text as typed, "unit": ...}``) and read by
    the engine's ``read_case``, the reading the API and the CLI use: each
    problem comes back naming its code, and lands on that field. ``case`` is
    set even when some fields are in error: those are left out, so the answer
    never goes blank because of one bad value.
    """

    def __init__(self, data: Any = None, *, snapshot: Snapshot) -> None:
        super().__init__(data)
        self.snapshot = snapshot
        self.layout = layout_for(snapshot)
        self.case: Case | None = None
        self.warnings: dict[str, str] = {}
        # Fields depend only on content: built once per content version and
        # shared (never mutated per request; errors live on the form). They name
        # what may be posted and label the error summary.
        self.fields = dict(_fields_for(snapshot, self.layout))

    def full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}
        if self.is_bound:
            self._read(self.data)

    def _read(self, data: Any) -> None:
        items, fields = self.layout.items, self.fields
        twice = getattr(data, "twice", None)
        if twice is None and hasattr(data, "getlist"):  # a QueryDict (the no-JS page, staff views)
            twice = {name for name in data if len(data.getlist(name)) > 1}
        # Only what was given: a missing or empty field is "not assessed".
        findings: dict[str, Any] = {}
        labs: dict[str, Any] = {}
        payload: dict[str, Any] = {"findings": findings, "labs": labs, "compare": True}
        for name in data:
            if name not in fields:
                continue  # not a case field ("units", the page's own controls): ignored
            raw = data.get(name)
            if twice and name in twice:
                self.add_error(name, "Given twice; enter it once.")
                continue
            if not raw:
                continue
            if name == "criteria_set":
                payload["criteria_set"] = raw
                continue
            item = items.get(name)
            if item is None:
                continue  # a unit: read with its value below
            if item.kind == "finding":
                if raw in (PRESENT, ABSENT):
                    findings[name] = raw == PRESENT
                else:
                    self.add_error(name, "Choose Present, Absent or Not assessed.")
            elif len(raw) > MAX_TEXT:
                self.add_error(name, f"At most {MAX_TEXT} characters.")
            elif item.kind == "number":
                if twice and unit_field(name) in twice:
                    continue  # its unit is in error ("given twice"): left out, as the summary says
                unit = data.get(unit_field(name)) or LABS[name].unit
                if len(unit) > MAX_TEXT:
                    self.add_error(unit_field(name), f"At most {MAX_TEXT} characters.")
                    continue
                labs[name] = {"value": raw, "unit": unit}
            else:
                labs[name] = raw
        case, errors = read_case(
            payload, self.snapshot.book.sets, text=True, drafts=self.snapshot.book.draft_messages
        )
        for error in errors:
            name = error.code + ("__unit" if error.part == "unit" else "")
            self.add_error(name if name in fields else None, error.message[0].upper() + error.message[1:])
        self.warnings = {w.code: w.message for w in case.warnings}
        self.case = case

    @property
    def payload(self) -> dict[str, Any]:
        """The case in the API's input shape, numbers as entered: staff keep it as a regression case."""
        case = self.case
        if case is None:
            return {}
        labs: dict[str, Any] = {}
        for code, value in case.labs.items():
            given = case.entered.get(code)
            if given is not None:
                labs[code] = {"value": given.value, "unit": given.unit}
            elif isinstance(value, str):
                labs[code] = value
            else:  # the form always posts a unit; so does the saved case
                labs[code] = {"value": value, "unit": LABS[code].unit}
        out: dict[str, Any] = {"findings": dict(case.findings), "labs": labs, "compare": True}
        if case.criteria_set:
            out["criteria_set"] = case.criteria_set
        return out

    def error_list(self) -> list[dict[str, str]]:
        """Each error with the field's label and the id to link to (error summary)."""
        out = []
        for name, messages in self.errors.items():
            if name == NON_FIELD_ERRORS:  # about the case as a whole: the form itself
                out += [
                    {"name": name, "label": _("The case"), "message": str(m), "id": "case-form"}
                    for m in messages
                ]
                continue
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
        """What was entered, as entered (value and unit as typed), in the page's order, for the report."""
        cached: list[dict[str, str]] | None = getattr(self, "_entered", None)
        if cached is not None:
            return cached
        out: list[tuple[int, dict[str, str]]] = []
        if self.is_bound:
            items, position, data, errors = self.layout.items, self.layout.position, self.data, self.errors
            for code in data:
                item = items.get(code)
                raw = data.get(code)
                # Left out of the evaluation (the value or its unit in error): not "entered".
                if item is None or not raw or code in errors or unit_field(code) in errors:
                    continue
                if item.kind == "finding":
                    shown = {"yes": "present", "no": "absent"}.get(raw, "")
                    if not shown:
                        continue
                elif item.kind == "number":
                    unit = data.get(unit_field(code)) or LABS[code].unit
                    # A ratio or a count is shown bare, as the engine's display_unit has it.
                    shown = f"{raw} {unit_word(unit) if display_unit(unit) else ''}".strip()
                else:
                    shown = choice_word(str(raw))
                entry = {"code": code, "label": item.label, "value": shown}
                if item.kind == "finding":
                    entry["state"] = raw  # "yes" or "no", whatever language the value is shown in
                out.append((position[code], entry))
        out.sort(key=lambda pair: pair[0])
        self._entered = [entry for _position, entry in out]
        return self._entered


_FIELDS: dict[tuple[str, str], dict[str, forms.Field]] = {}


def _fields_for(snapshot: Snapshot, layout: Layout) -> dict[str, forms.Field]:
    """The fields, built once per content version and language (as the layout they read)."""
    key = (snapshot.stamp, translation.get_language() or settings.LANGUAGE_CODE)
    fields = _FIELDS.get(key)
    if fields is None:
        fields = _build_fields(snapshot, layout)
        if len(_FIELDS) >= 12:  # per language of the live release, and a few older
            _FIELDS.clear()
        _FIELDS[key] = fields
    return fields


def _build_fields(snapshot: Snapshot, layout: Layout) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {
        "criteria_set": forms.ChoiceField(
            label=_("Criteria set"),
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
                label=_("%(label)s unit") % {"label": item.label},
                choices=[(u, u) for u in item.units],
                required=False,
            )
    return fields
