"""A database made at the last main before the rooms (9c38ae9) migrates with today's code.

The rooms moved the models into ``checklist.content`` and ``checklist.ehr`` but kept the app
label, so the tables and the migration history are the same. The file is that database
(seed content loaded, one finding's label edited as an editor would), gzipped; the test
migrates a copy in a separate process, as an operator would, and checks nothing was lost.
"""

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD = Path(__file__).parent / "data" / "db_at_9c38ae9.sqlite3.gz"
EDITED = "Polyneuropathy (edited at 9c38ae9)"


def counts(path):
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        return {t: db.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


def manage(db, *args):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "1", "ALLOW_INSECURE_KEY": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_database_from_before_the_rooms_migrates_and_keeps_every_row(tmp_path):
    db = tmp_path / "old.sqlite3"
    db.write_bytes(gzip.decompress(OLD.read_bytes()))
    before = counts(db)
    assert before["checklist_finding"] > 0

    migrated = manage(db, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    # The models' state matches the migrations: the move changed no table or column.
    check = manage(db, "makemigrations", "--check", "--dry-run")
    assert check.returncode == 0, check.stdout + check.stderr

    after = counts(db)
    # A model added since grows the content types and permissions; every old row is kept.
    grows = {"django_migrations", "django_content_type", "auth_permission", "auth_group_permissions"}
    for table, rows in before.items():
        if table in grows:
            assert after[table] >= rows, table
        else:
            assert after[table] == rows, table
    read = manage(
        db,
        "shell",
        "--no-imports",
        "-c",
        "from checklist.content.models import Finding;"
        "print(Finding.objects.get(code='polyneuropathy').label)",
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == EDITED
