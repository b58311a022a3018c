"""python manage.py load_cds_clients [FILE]: seed the admin's CDS clients from a clients file.

Reads the CDS_HOOKS_CLIENTS file (or FILE) and adds a ``CdsClient`` row for each issuer
that has none. An existing row is never changed: once a client is in the admin, the admin
decides for it. Until then the file itself is still read at each call, so running this is
a choice (to edit clients in the admin, with history), not a step the service needs.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from checklist.ehr.clients import parse_entry
from checklist.ehr.models import CdsClient


class Command(BaseCommand):
    help = "Add the CDS clients of the CDS_HOOKS_CLIENTS file (or FILE) to the admin; never overwrites."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", help="A clients file (default: CDS_HOOKS_CLIENTS).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"] or settings.CDS_HOOKS_CLIENTS
        if not path:
            raise CommandError("Give a clients file, or set CDS_HOOKS_CLIENTS.")
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise CommandError(f"{path}: must map each issuer to its entry.")
        added = []
        with transaction.atomic():
            for iss, entry in raw.items():
                try:
                    parse_entry(iss, entry)
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                if CdsClient.objects.filter(issuer=iss).exists():
                    continue
                CdsClient.objects.create(
                    issuer=iss,
                    jwks=entry.get("jwks"),
                    jwks_url=entry.get("jwks_url") or "",
                    jku_allowlist=entry.get("jku_allowlist", []),
                    fhir_servers=entry.get("fhir_servers", []),
                    allowed_origins=entry.get("allowed_origins", []),
                    note=f"Seeded from {Path(path).name}.",
                )
                added.append(iss)
        self.stdout.write(f"Added {len(added)} CDS client(s): {', '.join(added) or 'none'}.")
