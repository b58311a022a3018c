"""Run regression cases (editor-written and the repository's golden cases) against the draft content."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from checklist.content.models import RegressionCase
from checklist.engine.diagnosis.rulebook import RuleBook

GOLDEN_DIR = Path(settings.BASE_DIR) / "tests" / "golden"


@dataclass(frozen=True, slots=True)
class CaseResult:
    slug: str
    name: str
    passed: bool
    differences: list[str]


def draft_book() -> tuple[RuleBook | None, list[str]]:
    """The rule book the draft would publish, and its problems (cases run against the draft)."""
    from checklist.content.publishing import rule_book_problems
    from checklist.content.rule_book import content_records

    return rule_book_problems(content_records())


def _run(case: RegressionCase, book: RuleBook | None, problems: list[str]) -> CaseResult:
    from checklist.content.publishing import run_case_on

    if book is None:
        return CaseResult(case.slug, case.name, False, [f"the draft is invalid: {'; '.join(problems)}"])
    failure = run_case_on(case, book)
    return CaseResult(case.slug, case.name, failure is None, [failure] if failure else [])


def _record(case: RegressionCase, result: CaseResult) -> None:
    case.last_passed = result.passed
    case.last_result = "passed" if result.passed else "\n".join(result.differences)
    case.last_run_at = timezone.now()


def run_case(case: RegressionCase, *, save: bool = False) -> CaseResult:
    """Run one case against the draft; with ``save``, record the result on the case."""
    result = _run(case, *draft_book())
    if save:
        _record(case, result)
        RegressionCase.objects.filter(pk=case.pk).update(
            last_passed=case.last_passed, last_result=case.last_result, last_run_at=case.last_run_at
        )
    return result


def run_all(*, save: bool = False) -> list[CaseResult]:
    """Run every active case against the draft; with ``save``, record each result in one bulk update."""
    cases = list(RegressionCase.objects.filter(archived=False))
    book, problems = draft_book()
    results = [_run(case, book, problems) for case in cases]
    if save:
        for case, result in zip(cases, results, strict=True):
            _record(case, result)
        RegressionCase.objects.bulk_update(
            cases, ["last_passed", "last_result", "last_run_at"], batch_size=200
        )
    return results


def golden_cases(directory: Path = GOLDEN_DIR) -> list[dict[str, Any]]:
    cases = []
    for path in sorted(directory.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            cases.append({**case, "file": path.name})
    return cases


def load_golden(directory: Path = GOLDEN_DIR) -> int:
    """Create or update a RegressionCase for every golden case in the repository."""
    count = 0
    for case in golden_cases(directory):
        RegressionCase.objects.update_or_create(
            slug=f"golden-{case['id']}"[:120],
            defaults={
                "name": case.get("name") or case["id"],
                "case": case["input"],
                "expected": case["expect"],
                "source": case.get("source", ""),
                "author": "repository golden cases",
                "from_repository": True,
            },
        )
        count += 1
    return count
