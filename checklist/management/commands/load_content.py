"""python manage.py load_content [--force]: load the reviewed seed content.

With it, the seed translations (fixtures/translations/<lang>/*.json, machine or draft, not
reviewed) go into the translation columns that are empty, and are published if the live
release lacks them.

Loads only into an empty content database unless --force, so re-running
`make setup` never overwrites what editors have changed. If nothing is
published yet, the seed is published as release 1, so a fresh install serves.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from checklist.content.care_rules import FOLLOW_UP_MODELS, seed_follow_up_rules
from checklist.content.models import ContentRelease, CriteriaSet
from checklist.content.publishing import publish, publish_seed
from checklist.content.rule_book import content_records
from checklist.content.translation_seed import fill_draft, fill_records, read_seed
from checklist.ehr.models import LoincMapping, TerminologyCode

SEED_FIXTURES = ("checklist_content", "content_pages", "loinc_mappings", "terminology_codes")


class Command(BaseCommand):
    help = "Load the seed content fixtures (only into an empty database unless --force)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Load even if content exists (overwrites seed rows)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if CriteriaSet.objects.exists() and not options["force"]:
            if not LoincMapping.objects.exists():
                # The LOINC mapping came after the first content; databases seeded before it get it once.
                call_command("loaddata", "loinc_mappings", verbosity=0)
                self.stdout.write("Loaded the seed LOINC mapping.")
            if seed_follow_up_rules():
                # The follow-up rules came after the first content: seeded once (saved with history).
                self.stdout.write("Loaded the seed follow-up rules.")
            if not TerminologyCode.objects.exists():
                # The order-hook codes came later still; they reach the pages once an editor publishes.
                call_command("loaddata", "terminology_codes", verbosity=0)
                self.stdout.write("Loaded the seed order-hook codes (publish to serve them).")
            self.stdout.write("Content already present; not loading the seed (use --force to overwrite).")
            texts = read_seed()
            if filled := fill_draft(texts):
                self.stdout.write(
                    f"Loaded {filled} seed translations into empty fields (draft, not reviewed)."
                )
            self._publish_seed()
            self._publish_follow_up_rules()
            self._publish_translations(texts)
            return
        call_command("loaddata", *SEED_FIXTURES, verbosity=0)
        seed_follow_up_rules(
            overwrite=options["force"]
        )  # not a fixture: the seed file is also the engine tests' source
        texts = read_seed()
        filled = fill_draft(texts)
        # Fixtures load as raw saves, which keep no history; record the seed as
        # each row's first version so an editor can always revert to it.
        call_command("populate_history", auto=True, verbosity=0)
        self.stdout.write(f"Loaded seed content: {', '.join(SEED_FIXTURES)}.")
        self.stdout.write(f"Loaded {filled} seed translations (ja, zh-hans; machine/draft, not reviewed).")
        self._publish_seed()
        self._publish_translations(texts)

    def _publish_seed(self) -> None:
        outcome = publish_seed()
        if not outcome.ok:
            raise CommandError(
                "The seed content cannot be published: " + "; ".join(outcome.problems + outcome.failures)
            )
        release = outcome.release
        assert release is not None
        self.stdout.write(f"Serving release {release.number} ({release.stamp}).")

    def _publish_follow_up_rules(self) -> None:
        """A live release from before the follow-up rules were content gets them, and nothing else.

        The new release is the live one plus the follow-up rows, through the same checks:
        other draft edits an editor has not published yet stay in the draft.
        """
        live = ContentRelease.objects.live()
        records = list(live.records or []) if live else []
        if not live or any(r["model"] in FOLLOW_UP_MODELS for r in records):
            return
        added = [r for r in content_records() if r["model"] in FOLLOW_UP_MODELS]
        outcome = publish("Follow-up rules (clinical.md §h) added from the seed.", records=records + added)
        if not outcome.ok:
            raise CommandError(
                "The follow-up rules cannot be published: " + "; ".join(outcome.problems + outcome.failures)
            )
        assert outcome.release is not None
        self.stdout.write(f"Serving release {outcome.release.number} ({outcome.release.stamp}).")

    def _publish_translations(self, texts: dict[tuple[str, str], dict[str, str]]) -> None:
        """A live release without the seed translations gets them, and nothing else.

        As for the follow-up rules: the live records plus the seed texts in their empty
        translation fields, through the same checks (numbers included), so an editor's
        unpublished draft edits stay in the draft.
        """
        live = ContentRelease.objects.live()
        if live is None:
            return
        records, filled = fill_records(live.records or [], texts)
        if not filled:
            return
        outcome = publish(
            "Japanese and Chinese texts added from the seed (machine or draft translation, not reviewed).",
            records=records,
        )
        if not outcome.ok:
            raise CommandError(
                "The seed translations cannot be published: " + "; ".join(outcome.problems + outcome.failures)
            )
        assert outcome.release is not None
        self.stdout.write(f"Serving release {outcome.release.number} ({outcome.release.stamp}).")
