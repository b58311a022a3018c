"""The editor's walk in a real browser (issue 11): edit, diff, refused, fix, publish, revert.

Screenshots of each admin state go to var/screenshots/ (git-ignored) for a person to look at.
"""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser_helpers import DESKTOP, chromium_browser

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PASSWORD = "editor-pass-1234"


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser, live_server, transactional_db):
    from django.contrib.auth.models import Group, User

    from checklist.content.models import RegressionCase
    from checklist.content.permissions import ensure_editors_group

    call_command("load_content", verbosity=0)
    ensure_editors_group()
    user = User.objects.create_user("clinician", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    RegressionCase.objects.create(
        slug="plasma-vegf-450",
        name="Plasma VEGF 450, Castleman absent",
        case={
            "findings": {
                "polyneuropathy": True,
                "m_protein_present": True,
                "castleman_disease": False,
                "sclerotic_bone_lesions": False,
                "skin_plethora": True,
            },
            "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma"},
        },
        criteria_set="mayo-2007",
        expected={"status": "met", "criteria": {"vegf_elevated": "met"}},
        source="Plasma cut-off 200 pg/mL (Dispenzieri 2012, PMID 22547581)",
        author="test",
    )
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.base = live_server.url
    yield pg
    context.close()


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def set_vegf_cutoff(page, value, *, confirm=False):
    from checklist.content.models import Threshold

    pk = Threshold.objects.get(code="vegf_plasma_cutoff").pk
    page.goto(f"{page.base}/admin/checklist/threshold/{pk}/change/")
    page.fill("#id_value", value)
    if confirm:
        page.check("#id_confirm_unusual")
    submit(page, "input[name=_save]")


def live_cutoff(page):
    page.goto(f"{page.base}/criteria")
    row = page.locator("tr", has_text="high-specificity plasma cut-off").first.inner_text()
    return float(re.search(r">= ([\d.]+)", row).group(1))


def test_editor_walk_edit_diff_refused_fix_publish_revert(page):
    page.goto(f"{page.base}/admin/login/")
    page.fill("#id_username", "clinician")
    page.fill("#id_password", PASSWORD)
    submit(page, "input[type=submit]")
    assert live_cutoff(page) == 200

    # 1. A likely unit slip must be confirmed; nothing is saved meanwhile.
    set_vegf_cutoff(page, "0.2")
    assert "was it typed in ng/mL (0.2 ng/mL = 200 pg/mL)?" in page.content()
    shot(page, "01-unit-slip-warning")

    # 2. Edit: saved to the draft, with the warning that publishing would be refused.
    set_vegf_cutoff(page, "1000")
    messages = page.locator("ul.messagelist").inner_text()
    assert "Saved to the draft." in messages
    assert "Publishing would be refused: 1 regression case would change." in messages
    assert (
        "Case 'Plasma VEGF 450, Castleman absent' would change from Meets to Does not meet: "
        "VEGF elevation met -> not met" in messages
    )
    shot(page, "02-saved-to-draft")
    assert live_cutoff(page) == 200  # nothing public changed

    # 3. The draft against the live release, then Publish: refused in clinical words.
    page.goto(f"{page.base}/admin/checklist/contentrelease/")
    submit(page, "text=Review the draft and publish")
    diff = page.locator("#draft-diff").inner_text()
    assert "vegf_plasma_cutoff" in diff and "200.0" in diff and "1000.0" in diff
    assert "cannot be published as it stands" in page.locator("#draft-status").inner_text()
    shot(page, "03-draft-diff")
    page.fill("#id_note", "Plasma VEGF cut-off 1000 pg/mL.")
    submit(page, "input[name=publish]")
    assert "Not published; nothing changed." in page.locator("#draft-status").inner_text()
    problems = page.locator(".publish-problems").inner_text()
    assert "Case 'Plasma VEGF 450, Castleman absent' would change from Meets to Does not meet" in problems
    shot(page, "04-publish-refused")
    assert live_cutoff(page) == 200

    # 4. Fix, publish: the live page changes and carries the new release.
    set_vegf_cutoff(page, "300")
    assert "Regression cases against the draft: all 1 pass." in page.content()
    page.goto(f"{page.base}/admin/checklist/contentrelease/publish/")
    assert "Valid:" in page.locator("#draft-status").inner_text()
    page.fill("#id_note", "Plasma VEGF cut-off 300 pg/mL.")
    submit(page, "input[name=publish]")
    assert "Published release 2" in page.locator("ul.messagelist").inner_text()
    shot(page, "05-published")
    assert live_cutoff(page) == 300
    assert "Plasma VEGF cut-off 300 pg/mL." in page.goto(f"{page.base}/changelog").text()

    # 5. Revert: publish release 1 again, as release 3.
    from checklist.content.models import ContentRelease

    page.goto(f"{page.base}/admin/checklist/contentrelease/")
    first = ContentRelease.objects.get(number=1).pk
    page.check(f"input[name=_selected_action][value='{first}']")
    page.select_option("select[name=action]", "publish_again")
    submit(page, "button[name=index]")
    diff = page.locator("#draft-diff").inner_text()
    assert "300.0" in diff and "200.0" in diff
    shot(page, "06-revert-review")
    submit(page, "input[name=publish]")
    assert "Published release 3" in page.locator("ul.messagelist").inner_text()
    shot(page, "07-reverted")
    assert live_cutoff(page) == 200
