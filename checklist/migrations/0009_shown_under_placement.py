"""Where each finding and lab sits on the form, once, in databases seeded before ``shown_under``.

Until 0008 this was code (a section -> criterion table in forms.py); now it is
content an editor owns. A fresh install gets it from the seed fixture; an
existing draft gets the placement the form already used (``checklist.content.legacy``,
frozen), so the page is unchanged. Only the draft changes, and only items not
yet placed; published releases are immutable and are read with the same
placement (``content.with_placement``).
"""

from typing import Any

from django.db import migrations

from checklist.content.legacy import shown_under_before_the_field


def forwards(apps: Any, schema_editor: Any) -> None:
    criteria = {c.code: c for c in apps.get_model("checklist", "Criterion").objects.all()}
    for name in ("Finding", "LabField"):
        model = apps.get_model("checklist", name)
        has_criterion = name == "Finding"
        for item in model.objects.filter(shown_under__isnull=True):
            linked = item.criterion_id if has_criterion else None
            home = criteria.get(shown_under_before_the_field(item.code, item.section, linked) or "")
            if home is not None:
                item.shown_under = home
                item.save(update_fields=["shown_under"])


class Migration(migrations.Migration):
    dependencies = [("checklist", "0008_shown_under")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
