"""The "copy to note" plain-text reports, written from the presented result.

The short note and the full report (the copied notes at ``/result/note``, the page without
JavaScript and the print view at ``/report``) are written from the same
``ResultView`` the panel shows (``checklist.web.presenters.diagnosis``), so the words cannot
drift from the page. They hold only what the clinician entered: no name, no identifier,
unless they typed one into a free-text field (there is none).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from checklist.web.presenters.diagnosis import (
    BEFORE_TREATMENT,
    DRUGS_HEADING,
    MISSING_HEADING,
    NO_SCORE,
    RISKS_HEADING,
    Caution,
    Criterion,
    Entered,
    Reason,
    ResultView,
    WorkUpItem,
)

# Tags the short note marks beside a caution: the rest would only lengthen it.
_WEAK = ("unverified", "app_convention")


def _headline(view: ResultView) -> str:
    return _("Result: %(headline)s under %(set)s%(caveats)s.") % {
        "headline": view.headline,
        "set": view.set_name,
        "caveats": view.caveats,
    }


def _left_out(view: ResultView) -> list[str]:
    """Values in error are left out of the evaluation (a bad value never blanks the answer), so
    a report must say so: otherwise "VEGF not measured" would stand for a VEGF that was typed."""
    return [
        _("LEFT OUT, fix and re-run: %(field)s: %(message)s")
        % {"field": e.label or e.name, "message": e.message}
        for e in view.errors
    ]


def _caution(c: Caution) -> str:
    source = f" ({c.source})" if c.source else ""
    return c.message + (f" {c.detail}" if c.detail else "") + f" [{c.evidence_word}]{source}"


def _tagged(reasons: tuple[Reason, ...]) -> str:
    """Reasons with their labels in brackets, as the page shows them beside each."""
    return " ".join(f"{r.text} [{r.note}]" for r in reasons)


def _reasons(c: Criterion) -> str:
    return _tagged(c.reasons)


def _marked(c: Criterion) -> str:
    """A criterion's name in the short note, marked when a reason rests on an unverified number,
    an app default or an app convention (the published ones go unmarked, to stay short)."""
    return f"{c.name} [{c.flag}]" if c.flag else c.name


def _lines(heading: str, rows: tuple[WorkUpItem, ...], after: str = "") -> list[str]:
    if not rows:
        return []
    lines = [f"{heading}:"] + [f"- {r.text} [{r.note or r.evidence_word}] ({r.source})" for r in rows]
    return [*lines, after] if after else lines


def before_treatment_lines(view: ResultView, short: bool = False) -> list[str]:
    """The §j section as note lines: in the short note one line each for the extent, the
    investigations still missing and the risk factors; in the full report every line with its
    evidence tag and source, and the drug cautions."""
    bt = view.before_treatment
    if bt is None:
        return []
    settle = " " + _("To settle: %(what)s") % {"what": bt.to_settle} if bt.to_settle else ""
    extent = _("Extent: %(extent)s.") % {"extent": bt.extent}
    if short:
        lines = [f"{extent}{settle}"]
        if bt.tests:
            lines.append(_("Work-up still missing: %(tests)s.") % {"tests": "; ".join(bt.tests)})
        if bt.factors:
            lines.append(f"{_(RISKS_HEADING)}: " + ", ".join(bt.factors) + ".")
        return lines
    reasons = f" {_tagged(bt.extent_reasons)}" if bt.extent_reasons else ""
    lines = ["", f"{_(BEFORE_TREATMENT)}:", f"{extent}{reasons}{settle}"]
    lines += _lines(_(MISSING_HEADING), bt.missing)
    lines += _lines(_(RISKS_HEADING), bt.risks, after=_(NO_SCORE))
    lines += _lines(_(DRUGS_HEADING), bt.drugs)
    return lines


def short_report(view: ResultView) -> str:
    """About ten lines for a clinic note: headline, caveats, criteria, flags, versions, disclaimer."""
    met = [_marked(c) for c in view.criteria if c.status == "met"]
    lines = [
        _("POEMSaid %(date)s (decision support, NOT A DIAGNOSIS)") % {"date": view.today},
        _headline(view),
    ]
    lines += [
        _("Major caveat: %(caution)s") % {"caution": c.message}
        + (f" [{c.evidence_word}]" if c.evidence in _WEAK else "")
        for c in view.major
    ]
    lines += _left_out(view)
    lines.append(_("Met: %(names)s.") % {"names": ", ".join(met) if met else _("none")})
    if view.still_needed:
        lines.append(_("Still needed: %(names)s.") % {"names": ", ".join(view.still_needed)})
    flags = [d.name for d in view.differentials]
    lines.append(
        _("Differentials to consider: %(names)s.")
        % {"names": ", ".join(flags) if flags else _("none flagged")}
    )
    lines += before_treatment_lines(view, short=True)
    lines.append(
        _("Criteria set %(set)s v%(version)s; content %(content)s.")
        % {"set": view.set_name, "version": view.set_version, "content": view.content_version}
    )
    lines.append(view.disclaimer)
    return "\n".join(lines)


def plain_text_report(view: ResultView, inputs: bool = True) -> str:
    """The full note. Without ``inputs`` it stops before the inputs and the disclaimer, which the
    print view sets apart (report.html) so that the whole view fits one A4 page."""
    lines = [
        _("POEMS syndrome criteria checklist (POEMSaid) - decision support, NOT A DIAGNOSIS"),
        _("Date: %(date)s") % {"date": view.today},
        _("Criteria set: %(set)s (%(slug)s, version %(version)s)")
        % {"set": view.set_name, "slug": view.set_slug, "version": view.set_version},
        _("Content version: %(content)s") % {"content": view.content_version},
        "",
        _headline(view),
    ]
    lines += [_("Major caveat: %(caution)s") % {"caution": _caution(c)} for c in view.major]
    lines += _left_out(view)
    if view.still_needed:
        lines.append(_("Still needed: %(names)s.") % {"names": ", ".join(view.still_needed)})
    lines += ["", _("Differentials to consider or exclude:")]
    lines += [f"- {d.name}: {_tagged(d.items) if d.items else d.reasons}" for d in view.differentials] or [
        "- " + _("none flagged")
    ]
    if view.minor:
        lines += ["", _("Cautions:")]
        lines += [f"- {_caution(c)}" for c in view.minor]
    lines += ["", _("Criteria:")]
    for c in view.criteria:
        lines.append(f"- [{c.word}] {c.name} ({c.group}): {_reasons(c)}")
    if view.comparison:
        lines += ["", _("Under each criteria set:")]
        for row in view.comparison:
            lines.append(f"- {row.name}: {row.status.replace('_', ' ')}. {row.explanation}")
    lines += before_treatment_lines(view)
    if not inputs:
        return "\n".join(lines)
    lines += ["", _("Inputs, as entered (not assessed items omitted):")]
    lines += [f"- {e.label}: {e.value}" for e in view.entered] or ["- " + _("none")]
    lines += ["", view.disclaimer]
    if view.closing:
        lines.append(view.closing)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class PrintInputs:
    """The inputs as the print view sets them: findings in two run-in lists, values one by one.

    One line per finding (the note's form) takes a third of an A4 page once forty findings are
    recorded; grouped, the whole print view stays on one page (issue 19)."""

    present: tuple[str, ...]
    absent: tuple[str, ...]
    values: tuple[Entered, ...]


def print_inputs(view: ResultView) -> PrintInputs:
    return PrintInputs(
        present=tuple(e.label for e in view.entered if e.state == "yes"),
        absent=tuple(e.label for e in view.entered if e.state == "no"),
        values=tuple(e for e in view.entered if not e.state),
    )
