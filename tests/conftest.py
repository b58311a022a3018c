import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import settings as hypothesis_settings

from checklist.engine.diagnosis.book import from_records

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [ROOT / "fixtures" / "checklist_content.json", ROOT / "fixtures" / "content_pages.json"]


def pytest_configure(config):
    # schemathesis makes one item per API operation, all with the same node id. pytest-xdist's
    # loadscope, loadfile and loadgroup schedule by node id and run only one of them (the
    # other operations' failures vanish, exit 0); load and worksteal schedule by position.
    if getattr(config.option, "dist", "no") in ("loadscope", "loadfile", "loadgroup"):
        raise pytest.UsageError(
            f"--dist {config.option.dist} drops schemathesis items (one node id per operation); "
            "use --dist worksteal (pyproject.toml) or load"
        )


# Hypothesis budgets. Without HYPOTHESIS_PROFILE, Hypothesis' built-in profile: 100 examples
# per property ("ci", derandomised, when CI is set). HYPOTHESIS_PROFILE=ci-deep runs the engine
# properties (tests/test_properties.py) with 1,000 each, for a deeper look before a release or
# after a change to the rules. Loaded here, before the test modules build their settings.
hypothesis_settings.register_profile("ci-deep", max_examples=1000)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


def fixture_records():
    records = []
    for path in FIXTURES:
        records.extend(json.loads(path.read_text(encoding="utf-8")))
    return records


def fixture_rules():
    """The seed diagnosis rules (fixtures/diagnosis_rules.json): the §j work-up, caution details,
    per-unit published thresholds."""
    return json.loads((ROOT / "fixtures" / "diagnosis_rules.json").read_text(encoding="utf-8"))


def build_book(records, rules=None):
    """A rule book from content records and the seed diagnosis rules (or the ``rules`` given)."""
    return from_records(records, fixture_rules() if rules is None else rules)


@pytest.fixture(scope="session")
def book():
    """The seed content as the engine sees it, built without a database."""
    return build_book(fixture_records())


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_content_cache(monkeypatch):
    from checklist.content import rule_book as content

    # Tests run inside a transaction that never commits: the publish signal
    # (transaction.on_commit in production) fires at once here.
    monkeypatch.setattr(content, "_after_commit", lambda func: func())
    content.invalidate()
    yield
    content.invalidate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the seed content and its first history rows loaded once.

    Loading the seed (141 KB of fixtures plus a history row per object) cost ~0.3 s per
    test when each test did it. Each `db` test runs inside a transaction that is rolled
    back, so edits a test makes never leak into the next one; the seed itself is the same
    for every test, as the shipped database is. Tests that need an empty content database
    delete the rows inside their own transaction.
    """
    with django_db_blocker.unblock():
        call_command("load_content", verbosity=0)


@pytest.fixture
def seeded(db):
    """A database holding the seed content (loaded once per session; see django_db_setup).

    Transactional tests (live_server, the browser) end with a flush, and pytest-django runs
    them after every `db` test; if one ran earlier anyway, the seed is loaded again here,
    inside this test's transaction.
    """
    from checklist.content import rule_book as content
    from checklist.content.models import CriteriaSet

    if not CriteriaSet.objects.exists():
        call_command("load_content", verbosity=0)
    content.invalidate()


@pytest.fixture
def publish_draft(db):
    """Publish the draft as the next release (pages serve only published content)."""

    def publish(note: str = "Test edit.") -> object:
        from checklist.content.publishing import publish as do_publish

        outcome = do_publish(note)
        assert outcome.ok, outcome.problems + outcome.failures
        return outcome.release

    return publish


@pytest.fixture
def editor(db):
    from django.contrib.auth.models import Group, User

    from checklist.content.permissions import ensure_editors_group

    ensure_editors_group()
    user = User.objects.create_user("editor", password="editor-pass-1234", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.org", "root-pass-1234")
