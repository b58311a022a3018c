"""The red flags of clinical.md §i.3, each fired, absent, not assessed, or (VEGF) undetermined.

A flag fires only on "yes" or on a value; "not assessed" never counts as absent.
Numbers are compared exactly in the unit they were entered in: the threshold is
converted into that unit with the exact factor (engine/exact.py), and the entered
value is never rounded (clinical.md §f.3 A10).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from ..exact import exact, unit_factor
from ..i18n import AND, COMMA, gettext_noop
from ..inputs import display_unit, format_value
from ..message import Joined, Message, spelt
from .inputs import LabValue, ScreenInput
from .rules import ScreenRules, Threshold

# The screen's choice words (the page's options, and the words inside a reason), for the catalogues.
CHOICE_WORDS = {
    "light_chain_only": gettext_noop("light chain only"),
    "biclonal": gettext_noop("biclonal"),
    "none": gettext_noop("none"),
    "unknown": gettext_noop("unknown"),
    "lambda": gettext_noop("lambda"),
    "kappa": gettext_noop("kappa"),
    "kappa_and_lambda": gettext_noop("kappa and lambda"),
    "serum": gettext_noop("serum"),
    "plasma": gettext_noop("plasma"),
}
SEMI = Message("; ")
# Between "no conduction block" and "no temporal dispersion": "、" after なし in Japanese.
COMMA_NO = Message(", no ")


def choice_word(value: str) -> Message:
    """A choice as a reason writes it (kappa_and_lambda: "kappa and lambda"), still translatable."""
    return Message(CHOICE_WORDS.get(value, value.replace("_", " ")))


class State(StrEnum):
    FIRED = "fired"
    ABSENT = "absent"
    NOT_ASSESSED = "not_assessed"
    UNDETERMINED = "undetermined"  # the answer depends on an input not given (A1)


@dataclass(frozen=True, slots=True)
class FlagResult:
    code: str
    state: State
    reason: str = ""
    branch: str = ""
    because: tuple[str, ...] = ()  # the input codes that fired it


def passes(t: Threshold, lab: LabValue) -> tuple[bool, Fraction]:
    """Whether the entered value passes ``t``, and the threshold in the entered unit."""
    # A threshold may be seeded in any unit of its lab (rules._check): both factors are exact.
    limit = exact(t.value) * unit_factor(t.lab, t.unit) / lab.factor
    value = exact(lab.value)
    return (value > limit if t.comparison == ">" else value >= limit), limit


def show(value: Fraction | float, unit: str) -> str:
    return f"{format_value(float(value), 6)}{display_unit(unit)}"


def evaluate_flags(inp: ScreenInput, rules: ScreenRules) -> dict[str, FlagResult]:
    return {
        "rf_lambda_mprotein": _lambda(inp, rules),
        "rf_mprotein_any": _mprotein_any(inp, rules),
        "rf_thrombocytosis": _platelets(inp, rules),
        "rf_vegf_raised": vegf_flag(inp, rules),
        "rf_systemic_feature": _any_yes("rf_systemic_feature", inp, rules.systemic_feature_codes, rules),
        "rf_clinical_profile": _any_yes("rf_clinical_profile", inp, rules.clinical_profile_codes, rules),
        "rf_ncs_profile": _ncs(inp, rules),
        "rf_ivig_refractory": _any_yes("rf_ivig_refractory", inp, ("ivig_refractory",), rules),
    }


def _lambda(inp: ScreenInput, rules: ScreenRules) -> FlagResult:
    code = "rf_lambda_mprotein"
    if inp.no("m_protein_present"):
        return FlagResult(code, State.ABSENT, Message("No M-protein on immunofixation."))
    if not inp.yes("m_protein_present"):
        return FlagResult(code, State.NOT_ASSESSED)
    light = inp.choices.get("light_chain_type")
    heavy = inp.choices.get("heavy_chain_type")
    if heavy in rules.lambda_excluded_heavy_chains:
        return FlagResult(
            code,
            State.ABSENT,
            Message("%(heavy)s M-protein: not counted (clinical.md §i.3 I-R2).", heavy=heavy),
        )
    if light is None or light in rules.untyped_light_chains:
        return FlagResult(code, State.NOT_ASSESSED)
    if light in rules.lambda_light_chains:
        typed = heavy is not None and heavy not in rules.untyped_heavy_chains
        chain = (
            Message("%(heavy)s-%(light)s", heavy=heavy, light=choice_word(light))
            if typed and heavy
            else choice_word(light)
        )
        return FlagResult(
            code,
            State.FIRED,
            Message("%(chain)s M-protein on immunofixation.", chain=chain),
            because=("m_protein_present", "light_chain_type"),
        )
    return FlagResult(code, State.ABSENT, Message("Light chain %(light)s.", light=light))


def _mprotein_any(inp: ScreenInput, rules: ScreenRules) -> FlagResult:
    code = "rf_mprotein_any"
    if inp.no("m_protein_present"):
        return FlagResult(code, State.ABSENT, Message("No M-protein on immunofixation."))
    if not inp.yes("m_protein_present"):
        return FlagResult(code, State.NOT_ASSESSED)
    heavy = inp.choices.get("heavy_chain_type")
    if heavy is None or heavy in rules.untyped_heavy_chains:
        return FlagResult(code, State.NOT_ASSESSED)
    if heavy in rules.mprotein_any_heavy_chains:
        return FlagResult(
            code,
            State.FIRED,
            Message("%(chain)s M-protein on immunofixation.", chain=heavy),
            because=("m_protein_present", "heavy_chain_type"),
        )
    return FlagResult(code, State.ABSENT, Message("Heavy chain %(heavy)s.", heavy=heavy))


def _platelets(inp: ScreenInput, rules: ScreenRules) -> FlagResult:
    code = "rf_thrombocytosis"
    lab = inp.labs.get("platelets_10e9_l")
    if lab is None:
        return FlagResult(code, State.NOT_ASSESSED)
    t = rules.thresholds["platelets"]
    ok, limit = passes(t, lab)
    shown = show(lab.value, lab.unit)
    if ok:
        return FlagResult(
            code,
            State.FIRED,
            Message("Platelets %(value)s > %(limit)s.", value=shown, limit=show(limit, lab.unit)),
            because=("platelets_10e9_l",),
        )
    return FlagResult(
        code,
        State.ABSENT,
        Message("Platelets %(value)s: not above %(limit)s.", value=shown, limit=show(limit, lab.unit)),
    )


def vegf_flag(inp: ScreenInput, rules: ScreenRules) -> FlagResult:
    """D3 with A1: the lab's ULN decides; else the specimen's cut-off; unknown specimen, both."""
    code = "rf_vegf_raised"
    lab = inp.labs.get("vegf_pg_ml")
    if lab is None:
        return FlagResult(code, State.NOT_ASSESSED)
    shown = show(lab.value, lab.unit)
    specimen = inp.choices.get("vegf_specimen", "unknown")
    word = {
        "serum": Message("Serum VEGF"),
        "plasma": Message("Plasma VEGF"),
        "unknown": Message("VEGF (specimen not given)"),
    }.get(specimen) or Message("%(specimen)s VEGF", specimen=specimen.capitalize())
    uln = inp.labs.get("vegf_uln_pg_ml")
    because = ("vegf_pg_ml",)
    if uln is not None:
        # Both are numbers as entered: the ULN is put exactly into the value's unit.
        limit = exact(uln.value) * uln.factor / lab.factor
        if exact(lab.value) > limit:
            return FlagResult(
                code,
                State.FIRED,
                Message(
                    "%(word)s %(value)s > the lab's upper limit %(limit)s.",
                    word=word,
                    value=shown,
                    limit=show(limit, lab.unit),
                ),
                "uln",
                because,
            )
        return FlagResult(
            code,
            State.ABSENT,
            Message(
                "%(word)s %(value)s: not above the lab's upper limit %(limit)s.",
                word=word,
                value=shown,
                limit=show(limit, lab.unit),
            ),
        )
    cutoffs = {"plasma": rules.thresholds["vegf_plasma"], "serum": rules.thresholds["vegf_serum"]}
    candidates = {specimen: cutoffs[specimen]} if specimen in cutoffs else cutoffs
    verdicts = {s: passes(t, lab) for s, t in candidates.items()}
    described = Joined(
        AND,
        (
            Message("%(specimen)s %(limit)s", specimen=choice_word(s), limit=show(limit, lab.unit))
            for s, (_ok, limit) in verdicts.items()
        ),
    )
    if all(ok for ok, _l in verdicts.values()):
        return FlagResult(
            code,
            State.FIRED,
            Message(
                "%(word)s %(value)s >= the cut-off (%(cutoffs)s).", word=word, value=shown, cutoffs=described
            ),
            "cutoff",
            because,
        )
    if not any(ok for ok, _l in verdicts.values()):
        return FlagResult(
            code,
            State.ABSENT,
            Message(
                "%(word)s %(value)s: below the cut-off (%(cutoffs)s).",
                word=word,
                value=shown,
                cutoffs=described,
            ),
        )
    return FlagResult(
        code,
        State.UNDETERMINED,
        Message(
            "%(word)s %(value)s: raised by the plasma cut-off, not by the serum one (%(cutoffs)s); "
            "the specimen decides.",
            word=word,
            value=shown,
            cutoffs=described,
        ),
        "cutoff",
    )


def _any_yes(code: str, inp: ScreenInput, codes: tuple[str, ...], rules: ScreenRules) -> FlagResult:
    present = tuple(c for c in codes if inp.yes(c))
    if present:
        labels = [rules.inputs[c].label for c in present]
        # Lowercased in the sentence, its first letter a capital again; each still its label's msgid.
        lowered = [spelt(label.lower(), label) for label in labels]
        first = lowered[0]
        lowered[0] = spelt(f"{first[0].upper()}{first[1:]}", labels[0])
        return FlagResult(
            code, State.FIRED, Message("%(items)s.", items=Joined(COMMA, lowered)), because=present
        )
    if all(inp.no(c) for c in codes):
        return FlagResult(code, State.ABSENT)
    return FlagResult(code, State.NOT_ASSESSED)


def _ncs(inp: ScreenInput, rules: ScreenRules) -> FlagResult:
    code = "rf_ncs_profile"
    reasons: list[Message] = []
    because: list[str] = []
    branch = ""
    assessed_absent = True
    tli = inp.labs.get("median_tli")
    if tli is not None:
        ok, limit = passes(rules.thresholds["median_tli"], tli)
        if ok:
            reasons.append(
                Message("Median TLI %(value)s >= %(limit)s", value=show(tli.value, ""), limit=show(limit, ""))
            )
            because.append("median_tli")
            branch = branch or "tli"
    else:
        assessed_absent = False
    absent = rules.absent_responses_code
    if inp.yes(absent):
        reasons.append(Message(rules.inputs[absent].label))
        because.append(absent)
        branch = branch or "absent_responses"
    elif not inp.no(absent):
        assessed_absent = False
    features = rules.cidp_feature_codes
    if all(inp.no(c) for c in features):
        lowered = (spelt(rules.inputs[c].label.lower(), rules.inputs[c].label) for c in features)
        reasons.append(Message("no %(items)s", items=Joined(COMMA_NO, lowered)))
        because.extend(features)
        branch = branch or "no_cidp_features"
    elif not any(inp.yes(c) for c in features):
        assessed_absent = False
    if reasons:
        return FlagResult(
            code, State.FIRED, Message("%(items)s.", items=Joined(SEMI, reasons)), branch, tuple(because)
        )
    return FlagResult(code, State.ABSENT if assessed_absent else State.NOT_ASSESSED)
