"""manage.py evaluate (design.md §3.4): prints the evaluation JSON, exit 2 on bad input."""

import io
import json
import sys

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

CASE = {
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "sclerotic_bone_lesions": True,
        "ascites": True,
    }
}


def run(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = 0
    try:
        call_command("evaluate", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_reads_stdin_and_prints_the_evaluation(seeded, monkeypatch):
    code, body = run(monkeypatch, "-", stdin=json.dumps(CASE))
    assert code == 0
    assert body["status"] == "met"
    assert body["criteria_set"]["slug"] == "mayo-2007"
    assert body["content_version"]


def test_reads_a_file_and_honours_criteria_set(seeded, monkeypatch, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE))
    code, body = run(monkeypatch, str(path), "--criteria-set", "suichi-2019")
    assert code == 0
    assert body["criteria_set"]["slug"] == "suichi-2019"
    assert body["status"] == "incomplete"
    assert "vegf_elevated" in body["missing"]


@pytest.mark.parametrize(
    ("args", "stdin", "field"),
    [
        (("-",), "{oops", "(body)"),
        (("-",), json.dumps({"labs": {"sex": "X"}}), "labs.sex"),
        (("-", "--criteria-set", "nope"), json.dumps(CASE), "criteria_set"),
        (("/no/such/file.json",), "", "(file)"),
    ],
)
def test_bad_input_exits_2_with_errors(seeded, monkeypatch, args, stdin, field):
    code, body = run(monkeypatch, *args, stdin=stdin)
    assert code == 2
    assert field in {e["field"] for e in body["errors"]}


def test_cli_and_api_give_the_same_answer(seeded, monkeypatch, client):
    _code, cli = run(monkeypatch, "-", stdin=json.dumps(CASE))
    api = client.post("/api/v1/evaluate", json.dumps(CASE), content_type="application/json").json()
    assert cli == api


def test_real_process_prints_only_json_on_stdout(seeded, tmp_path, settings):
    """As a user runs it: a separate process, a database file, stdout parsed as JSON."""
    import os
    import subprocess
    from pathlib import Path

    db = tmp_path / "cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "0", "ALLOW_INSECURE_KEY": "1"}
    root = Path(settings.BASE_DIR)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    subprocess.run([python, "manage.py", "load_content"], cwd=root, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [python, "manage.py", "evaluate", "-"],
        cwd=root,
        env=env,
        input=json.dumps(CASE),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "met"
    bad = subprocess.run(
        [python, "manage.py", "evaluate", "-"], cwd=root, env=env, input="{", capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["errors"][0]["field"] == "(body)"
