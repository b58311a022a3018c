import json
from pathlib import Path

import pytest
from django.core.management import call_command

from checklist.engine import from_records

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [ROOT / "fixtures" / "checklist_content.json", ROOT / "fixtures" / "content_pages.json"]


def fixture_records():
    records = []
    for path in FIXTURES:
        records.extend(json.loads(path.read_text(encoding="utf-8")))
    return records


@pytest.fixture(scope="session")
def book():
    """The seed content as the engine sees it, built without a database."""
    return from_records(fixture_records())


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_content_cache(monkeypatch):
    from checklist import content

    # Tests run inside a transaction that never commits: the publish signal
    # (transaction.on_commit in production) fires at once here.
    monkeypatch.setattr(content, "_after_commit", lambda func: func())
    content.invalidate()
    yield
    content.invalidate()


@pytest.fixture
def seeded(db):
    """A database holding the seed content."""
    call_command("load_content", verbosity=0)
    from checklist import content

    content.invalidate()


@pytest.fixture
def publish_draft(db):
    """Publish the draft as the next release (pages serve only published content)."""

    def publish(note: str = "Test edit.") -> object:
        from checklist.publishing import publish as do_publish

        outcome = do_publish(note)
        assert outcome.ok, outcome.problems + outcome.failures
        return outcome.release

    return publish


@pytest.fixture
def editor(db):
    from django.contrib.auth.models import Group, User

    from checklist.permissions import ensure_editors_group

    ensure_editors_group()
    user = User.objects.create_user("editor", password="editor-pass-1234", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.org", "root-pass-1234")
