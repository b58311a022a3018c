"""checklist/content/rule_strings.py lists every engine and rules-data text (issue 23)."""

import ast

from django.core.management import call_command

from checklist.content.msgids import OUTPUT, engine_msgids, fixture_msgids, render


def test_the_generated_file_is_current():
    # Stale when an engine text or a rules-data text changed without `manage.py rule_strings`.
    assert OUTPUT.read_text(encoding="utf-8") == render(), "run: python manage.py rule_strings"


def test_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    import checklist.management.commands.rule_strings as command

    stale = tmp_path / "rule_strings.py"
    stale.write_text(render().replace("Recorded by the clinician as absent.", "Changed."), encoding="utf-8")
    monkeypatch.setattr(command, "OUTPUT", stale)
    # The catalogues it keeps in line are copies here: the test writes nothing in the tree.
    copies = {}
    for language, path in command.CATALOGUES.items():
        copies[language] = tmp_path / language / "django.po"
        copies[language].parent.mkdir()
        copies[language].write_bytes(path.read_bytes())
    monkeypatch.setattr(command, "CATALOGUES", copies)
    try:
        call_command("rule_strings", "--check")
    except SystemExit as exc:
        assert exc.code == 1
    else:
        raise AssertionError("--check passed a stale file")
    call_command("rule_strings")
    assert stale.read_text(encoding="utf-8") == render()
    call_command("rule_strings", "--check")


def test_every_msgid_is_a_gettext_noop_call_makemessages_can_read():
    tree = ast.parse(OUTPUT.read_text(encoding="utf-8"))
    listed = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "gettext_noop"
    ]
    found = {m for m, _ in engine_msgids()} | {m for m, _ in fixture_msgids()}
    assert set(listed) == found and len(listed) == len(found)
    # Texts from both sources: engine reasons and the rules data's work-up.
    assert "Recorded by the clinician as absent." in listed
    assert "Pulmonary function tests with DLCO" in listed
    # Codes and citations are not texts to translate.
    assert not any(m.startswith("Wang et al.") or m == "bone_lesion_count" for m in listed)
