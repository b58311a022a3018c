"""The 2003 sub-finding lists, once, in databases seeded before ``Finding.not_in_sets`` existed.

A fresh install gets them from the seed fixture. An existing one gets the
same correction in its draft (issue 9, A9 content corrections): acrocyanosis,
flushing and pericardial effusion were not in the Mayo 2003 lists (Dispenzieri
et al., Blood 2003;101(7):2496-2506). Only the draft changes: answers follow
once an editor publishes it, through the usual checks. A database whose 2003
set already leaves something out is left alone (an editor has decided).
"""

from typing import Any

from django.db import migrations

NOT_IN_2003 = ("skin_acrocyanosis", "skin_flushing", "pericardial_effusion")


def forwards(apps: Any, schema_editor: Any) -> None:
    criteria_set = apps.get_model("checklist", "CriteriaSet").objects.filter(slug="mayo-2003").first()
    if criteria_set is None or criteria_set.findings_not_counted.exists():
        return
    findings = apps.get_model("checklist", "Finding").objects.filter(code__in=NOT_IN_2003)
    criteria_set.findings_not_counted.add(*findings)


class Migration(migrations.Migration):
    dependencies = [("checklist", "0006_finding_not_in_sets")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
