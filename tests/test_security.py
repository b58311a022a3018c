"""Security (design.md §5): deploy checks, headers, CSP, DEBUG off, secrets, admin, limits.

Settings are read once, when the process starts, from the environment. Tests
that need the production environment run a fresh Python process with exactly
that environment; tests that need production values in this process copy them
from such a process, so they never drift from what settings.py really does.
"""

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db

CASE = {
    "findings": {"polyneuropathy": True, "m_protein_present": True, "lymphadenopathy": True},
    "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma"},
}
CHECKED_PATHS = ["/", "/api/v1/evaluate", "/admin/login/"]
SECURE_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
]


def production_env(**overrides):
    """The smallest production environment (.env.example documents each variable).

    Built from nothing, so that DEBUG=1 or ALLOW_INSECURE_KEY=1 from the test
    run (the Makefile exports both) cannot leak in. A value of None removes it.
    """
    import os

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "poemsaid.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "poemsaid.example.org",
        "SECURE": "1",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run_python(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- check --deploy ------------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_without_https_settings():
    """The check above is not vacuous: switching HTTPS off makes it fail."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SECURE="0"))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_check_deploy_fails_with_the_development_key():
    """ALLOW_INSECURE_KEY in production is caught: the development key is flagged as insecure."""
    env = production_env(SECRET_KEY=None, ALLOW_INSECURE_KEY="1")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_every_environment_variable_is_documented_in_env_example():
    source = (ROOT / "poemsaid" / "settings.py").read_text()
    used = set(
        re.findall(r"""(?:os\.environ\.get|os\.environ\[|env_bool|env_list)\(?\s*["']([A-Z_]+)["']""", source)
    )
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE", "DATABASE_URL"} <= used
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.M))
    assert used <= documented, sorted(used - documented)


# --- DEBUG and secrets ---------------------------------------------------------------------

READ_SETTINGS = """
import json
try:
    from poemsaid import settings
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
else:
    print(json.dumps({"DEBUG": settings.DEBUG, "SECURE": settings.SECURE,
                      "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": settings.ALLOWED_HOSTS}))
"""


def read_settings(**env):
    result = run_python(READ_SETTINGS, production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_is_off_unless_asked_for():
    key = secrets.token_urlsafe(64)
    values = read_settings(DEBUG=None, SECURE=None, ALLOWED_HOSTS=None, SECRET_KEY=key)
    assert values["DEBUG"] is False
    assert values["SECURE"] is True  # HTTPS features follow DEBUG off by default
    assert values["SECRET_KEY"] == key
    assert values["ALLOWED_HOSTS"] == []  # nothing is served until hosts are named


def test_debug_on_only_when_asked_for():
    assert read_settings(DEBUG="1", SECRET_KEY=None)["DEBUG"] is True


def test_without_a_secret_key_the_app_refuses_to_serve():
    result = run_python("import poemsaid.wsgi", production_env(DEBUG=None, SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr
    result = run_python("import poemsaid.asgi", production_env(DEBUG=None, SECRET_KEY=None))
    assert "SECRET_KEY must be set" in result.stderr


def test_with_a_secret_key_the_app_serves():
    result = run_python("import poemsaid.wsgi", production_env(DEBUG=None))
    assert result.returncode == 0, result.stderr


def test_management_commands_work_on_a_bare_checkout_without_a_secret_key():
    """makemigrations --check (CI, reviewers) needs no key and no DEBUG."""
    env = production_env(DEBUG=None, SECRET_KEY=None, DATABASE_URL=None)
    result = manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_unclear_boolean_in_the_environment_refuses_to_load():
    values = read_settings(DEBUG="maybe")
    assert values["error"] == "ImproperlyConfigured"
    assert "DEBUG" in values["message"]


def test_env_bool_rejects_anything_but_yes_or_no(monkeypatch):
    from poemsaid.settings import env_bool

    for raw, expected in [
        ("1", True),
        ("yes", True),
        (" ON ", True),
        ("0", False),
        ("off", False),
        ("", False),
    ]:
        monkeypatch.setenv("POEMSAID_TEST_FLAG", raw)
        assert env_bool("POEMSAID_TEST_FLAG") is expected
    monkeypatch.delenv("POEMSAID_TEST_FLAG")
    assert env_bool("POEMSAID_TEST_FLAG", default=True) is True
    for raw in ("maybe", "2", "enabled", "tru"):
        monkeypatch.setenv("POEMSAID_TEST_FLAG", raw)
        with pytest.raises(ImproperlyConfigured, match="POEMSAID_TEST_FLAG"):
            env_bool("POEMSAID_TEST_FLAG")


# --- headers -------------------------------------------------------------------------------


def get(client, path, **extra):
    if path == "/api/v1/evaluate":
        return client.post(path, json.dumps(CASE), content_type="application/json", **extra)
    return client.get(path, **extra)


def csp_directives(header):
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", CHECKED_PATHS)
def test_security_headers(client, seeded, path):
    response = get(client, path)
    assert response.status_code == 200
    csp = response.headers.get("Content-Security-Policy")
    assert csp, "no Content-Security-Policy"
    directives = csp_directives(csp)
    assert "'self'" in directives["script-src"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")


@pytest.fixture(scope="module")
def production_https_values():
    """The HTTPS settings a production environment really produces, read once per module
    (a Django start-up in a fresh process; the environment is the same for every test)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {SECURE_SETTINGS!r}}}))"
    )
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def production_https(settings, production_https_values):
    """This process, with the HTTPS settings a production environment really produces."""
    values = dict(production_https_values)
    assert values["DEBUG"] is False
    for key, value in values.items():
        if key != "DEBUG":
            setattr(settings, key, value)
    return values


@pytest.mark.parametrize("path", CHECKED_PATHS)
def test_http_is_redirected_to_https(client, seeded, production_https, path):
    response = get(client, path)
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{path}"


@pytest.mark.parametrize("path", CHECKED_PATHS)
def test_https_responses_carry_hsts(client, seeded, production_https, path):
    response = get(client, path, secure=True)
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 31_536_000
    assert "includeSubDomains" in hsts


def test_admin_cookies_are_secure_and_http_only(client, seeded, production_https, superuser):
    page = client.get("/admin/login/", secure=True)
    assert page.cookies["csrftoken"]["secure"] is True
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "root-pass-1234", "next": "/admin/"},
        secure=True,
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 302, response.content[:500]
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] in ("Lax", "Strict")


# --- no inline script or style on public pages --------------------------------------------------

INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "on*= event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
}


def public_pages():
    from checklist.content.models import Differential, Treatment

    pages = ["/", "/criteria", "/about", "/treatments", "/references", "/changelog"]
    pages += [f"/treatments/{t.slug}" for t in Treatment.objects.all()]
    pages += [f"/differentials/{d.code}" for d in Differential.objects.all()]
    return pages


def assert_no_inline_code(path, html):
    assert len(html) > 500, path
    for what, pattern in INLINE.items():
        found = pattern.search(html)
        assert found is None, f"{path}: {what}: {found and found.group(0)[:120]}"


def test_public_pages_have_no_inline_script_or_style(client, seeded):
    pages = public_pages()
    assert len(pages) > 8  # every treatment and differential page is included
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_inline_code(path, response.content.decode())


def test_result_report_and_error_pages_have_no_inline_script_or_style(client, seeded):
    form = {
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "light_chain_type": "kappa",
        "vegf_pg_ml": "450",
        "vegf_specimen": "plasma",
        "lymphadenopathy": "yes",
        "platelets_10e9_l": "430",
        "neuropathy_demyelinating": "yes",
    }
    for path in ("/", "/report", "/result"):
        response = client.post(path, form)
        assert response.status_code == 200, path
        assert_no_inline_code(f"POST {path}", response.content.decode())
    bad = client.post("/", {**form, "vegf_pg_ml": "999999"})
    assert bad.status_code == 400
    assert_no_inline_code("POST / (invalid)", bad.content.decode())
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_no_inline_code("404", missing.content.decode())


# --- admin: staff only, throttled, movable ------------------------------------------------------


def test_anonymous_users_are_sent_to_the_admin_login(client, seeded):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_users_are_sent_to_the_admin_login(client, seeded):
    user = User.objects.create_user("clinician", password="clinician-pass-1234")
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def admin_login(client, password, ip, **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        **extra,
    )


def logged_in(client):
    return client.get("/admin/").status_code == 200


def test_admin_login_is_throttled_per_user_and_address(seeded, superuser):
    limit = django_settings.AXES_FAILURE_LIMIT
    assert 1 <= limit <= 10
    attacker = Client()
    for _ in range(limit):
        response = admin_login(attacker, "wrong-password", "203.0.113.7")
        assert response.status_code in (200, 429)  # the form again, then the lockout
    response = admin_login(attacker, "root-pass-1234", "203.0.113.7")
    assert response.status_code == 429, response.status_code
    assert not logged_in(attacker)

    # The lock is on that user from that address, not on the account everywhere.
    owner = Client()
    response = admin_login(owner, "root-pass-1234", "198.51.100.20")
    assert response.status_code == 302
    assert logged_in(owner)


def test_throttling_behind_a_proxy_uses_the_address_the_proxy_saw(seeded, superuser, settings):
    """PROXY_COUNT=1: the client is the last X-Forwarded-For entry; forged entries left of it don't count."""
    settings.PROXY_COUNT = 1
    proxy = "10.0.0.2"
    limit = settings.AXES_FAILURE_LIMIT
    attacker = Client()
    for i in range(limit):
        # The attacker varies what it sends; the proxy appends the real address.
        admin_login(attacker, "wrong-password", proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.7")
    response = admin_login(attacker, "root-pass-1234", proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
    assert response.status_code == 429
    assert not logged_in(attacker)

    owner = Client()  # same proxy, another client behind it
    response = admin_login(owner, "root-pass-1234", proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 302
    assert logged_in(owner)


def test_without_a_proxy_x_forwarded_for_is_ignored(seeded, superuser, settings):
    settings.PROXY_COUNT = 0
    attacker = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        admin_login(attacker, "wrong-password", "203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    response = admin_login(attacker, "root-pass-1234", "203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


ADMIN_URL_PROBE = """
import json, django
django.setup()
from django.urls import Resolver404, resolve
def view(path):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name
print(json.dumps({p: view(p) for p in ("/staff-only/login/", "/staff-only/", "/admin/login/", "/admin/")}))
"""


def test_admin_url_can_be_moved():
    result = run_python(ADMIN_URL_PROBE, production_env(ADMIN_URL="staff-only/"))
    assert result.returncode == 0, result.stderr
    views = json.loads(result.stdout)
    assert views["/staff-only/login/"] == "admin:login"
    assert views["/staff-only/"] == "admin:index"
    assert views["/admin/login/"] is None
    assert views["/admin/"] is None


# --- API: stateless, no CSRF, bounded input -----------------------------------------------------


@pytest.fixture
def api(seeded):
    return Client(enforce_csrf_checks=True)


def test_api_needs_no_csrf_token_and_sets_no_cookie(api):
    response = api.post("/api/v1/evaluate", json.dumps(CASE), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "met"
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    for path in ("/api/v1/criteria-sets", "/api/v1/vocabulary", "/api/v1/openapi.json"):
        response = api.get(path)
        assert response.status_code == 200
        assert not response.cookies, path


def test_api_other_methods_get_json_405_not_a_csrf_page(api):
    for path, allowed in [
        ("/api/v1/evaluate", "POST"),
        ("/api/v1/criteria-sets", "GET"),
        ("/api/v1/vocabulary", "GET"),
        ("/api/v1/openapi.json", "GET"),
    ]:
        for method in ("PUT", "PATCH", "DELETE", "POST" if allowed == "GET" else "GET"):
            response = api.generic(method, path, "{}", content_type="application/json")
            assert response.status_code == 405, (method, path, response.status_code)
            assert response["Content-Type"] == "application/json"
            assert response["Allow"] == allowed


def padded(case, size):
    body = json.dumps(case).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_body_at_the_limit_is_accepted_and_one_byte_more_is_413(api):
    limit = django_settings.API_MAX_BODY_BYTES
    assert 1000 < limit <= 1_000_000
    at_limit = padded(CASE, limit)
    assert len(at_limit) == limit
    response = api.post("/api/v1/evaluate", at_limit, content_type="application/json")
    assert response.status_code == 200
    over = padded(CASE, limit + 1)
    response = api.post("/api/v1/evaluate", over, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "(body)"


def test_a_very_large_body_is_413(api):
    response = api.post("/api/v1/evaluate", b"[" + b"0," * 2_000_000 + b"0]", content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        # Each is far deeper than Python's recursion limit, yet under API_MAX_BODY_BYTES.
        "[" * 30_000 + "]" * 30_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"labs": {"vegf_pg_ml": ' + "[" * 30_000 + "]" * 30_000 + "}}",
        '{"labs": {"sex": ' + '{"x":' * 8_000 + "1" + "}" * 8_000 + "}}",
        '{"criteria_set": ' + "[" * 990 + "]" * 990 + "}",
        '{"findings": {"polyneuropathy": ' + "[" * 990 + "]" * 990 + "}}",
    ],
    ids=["array", "object", "in-a-lab", "in-a-category", "repr-depth-set", "repr-depth-finding"],
)
def test_deeply_nested_json_is_400_not_500(api, body):
    response = api.post("/api/v1/evaluate", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_oversized_checklist_form_is_400_not_500(client, seeded):
    response = client.post(
        "/", {"polyneuropathy": "yes", "notes": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )
    assert response.status_code == 400
