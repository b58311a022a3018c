"""Verify the CDS client's JWT on every call (CDS Hooks 2.0, "Trusting CDS Clients").

The library is PyJWT with its ``crypto`` extra: it is the JWT library most
Python services use, is maintained, verifies ES384/RS384 through
``cryptography``, refuses ``none`` unless explicitly asked to, checks
``exp``/``iat``/``aud``/``iss`` with one call, and fetches and caches a JWK
Set by URL (``PyJWKClient``). What it does not do for us, we do here:

- ``typ`` must be ``JWT`` and ``alg`` one of ``ALLOWED_ALGORITHMS``
  (asymmetric only: never ``none`` or an HMAC, which would let anyone holding
  a public key forge tokens);
- the ``iss`` must be in ``CDS_HOOKS_CLIENTS`` and the ``kid`` in that
  issuer's JWK Set; the key is never taken from the token itself;
- a ``jku`` header is honoured only when it is on the client's own ``jku``
  allowlist (then the key set is fetched from it); any other ``jku``, or any
  ``jku`` from a client without an allowlist, is refused before anything is
  fetched (an attacker's URL is never fetched);
- ``aud`` (a string, or an array as RFC 7519 allows) must name the exact URL
  called, built from ``CDS_HOOKS_BASE_URL`` (a reverse proxy or a forged Host
  header cannot change it);
- a ``jti`` is accepted once for as long as the token could be valid, in
  Django's cache, which must be shared by every worker and server (Redis via
  ``CACHE_URL``; ``checks.py`` makes ``check --deploy`` fail otherwise);
- a token may live at most ``MAX_LIFETIME_SECONDS`` (the spec's five minutes).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from checklist.ehr.clients import DB_CLIENTS_KEY, DB_CLIENTS_TTL_SECONDS, parse_entry
from checklist.ehr.clients import Client as Client
from checklist.ehr.models import CdsClient

ALLOWED_ALGORITHMS = ("ES384", "RS384")
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30
JTI_PREFIX = "poemsaid:cds-jti:"


class JWTRejected(Exception):
    """The token is missing or invalid. The message is safe to return (it names no key material)."""


class KeysUnavailable(Exception):
    """The issuer's JWK Set could not be fetched: our problem or theirs, not the caller's token (503)."""


class ReplayCacheUnavailable(KeysUnavailable):
    """The shared cache that remembers used jti values cannot be reached (503, never accepted)."""


# Backends whose entries another worker process or another server cannot see. The file
# cache is shared by workers on one machine only, which is not enough behind a load balancer.
UNSHARED_CACHE_BACKENDS = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    }
)


def replay_cache_is_shared() -> bool:
    """Whether a jti remembered here is seen by every worker and server (issue 22).

    A per-process cache let a 4-worker gunicorn accept one token 4 times, so without a shared
    cache no token is accepted at all, unless CDS_HOOKS_LOCAL_REPLAY_CACHE says this is one
    process on purpose (``runserver``, the in-process tests; on by default with DEBUG only).
    """
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    return backend not in UNSHARED_CACHE_BACKENDS or bool(settings.CDS_HOOKS_LOCAL_REPLAY_CACHE)


_lock = threading.Lock()
_clients: dict[str, Any] = {}
_jwk_clients: dict[str, jwt.PyJWKClient] = {}
# An unknown kid makes the key set be fetched again (keys rotate), but at most once a
# minute per issuer: the issuer and kid are read before the signature is checked, so
# anyone could otherwise make this server fetch on every request.
REFRESH_INTERVAL_S = 60.0
_last_refresh: dict[str, float] = {}


def file_clients() -> dict[str, Client]:
    """The issuers in the CDS_HOOKS_CLIENTS file, re-read when the file changes."""
    path = getattr(settings, "CDS_HOOKS_CLIENTS", "")
    if not path:
        return {}
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError as exc:
        raise ImproperlyConfigured(f"CDS_HOOKS_CLIENTS file {path!r} does not exist.") from exc
    key = f"{path}:{mtime}"
    if _clients.get("key") == key:
        return _clients["value"]  # type: ignore[no-any-return]
    with _lock:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ImproperlyConfigured(
                "CDS_HOOKS_CLIENTS must map each issuer to {'jwks': ...} or {'jwks_url': ...}."
            )
        parsed: dict[str, Client] = {}
        for iss, entry in raw.items():
            try:
                parsed[iss] = parse_entry(iss, entry)
            except ValueError as exc:
                raise ImproperlyConfigured(f"CDS_HOOKS_CLIENTS: {exc}") from exc
        _clients.update(key=key, value=parsed)
        return parsed


def db_clients() -> dict[str, Client]:
    """The clients registered in the admin (active or not), from the cache when warm."""
    try:
        cached = cache.get(DB_CLIENTS_KEY)
    except Exception:  # a cache outage must not stop verification; the database still answers
        cached = None
    if isinstance(cached, dict):
        return cached
    found: dict[str, Client] = {}
    try:
        rows = list(CdsClient.objects.all())
    except DatabaseError:
        return {}
    for row in rows:
        try:
            found[row.issuer] = parse_entry(row.issuer, row.as_entry(), row.active)
        except ValueError:
            # The admin refuses such a row; one written around it is not trusted.
            found[row.issuer] = Client(row.issuer, None, None, active=False)
    with contextlib.suppress(Exception):  # not cached this time; the database answered
        cache.set(DB_CLIENTS_KEY, found, DB_CLIENTS_TTL_SECONDS)
    return found


def trusted_clients() -> dict[str, Client]:
    """Active clients: an issuer registered in the admin is decided by its row (active or not);
    the file's issuers count for the rest, so the file keeps working until the rows exist."""
    merged = {**file_clients(), **db_clients()}
    return {iss: c for iss, c in merged.items() if c.active}


def any_clients_configured() -> bool:
    return bool(trusted_clients())


def _signing_key(client: Client, kid: str, alg: str, jku: str | None = None) -> Any:
    if jku is None and client.jwks is not None:
        try:
            keyset = jwt.PyJWKSet.from_dict(client.jwks)
        except jwt.PyJWKSetError as exc:
            raise JWTRejected("the issuer's JWK Set is unusable") from exc
        for key in keyset.keys:
            if key.key_id == kid:
                return _check_key(key, alg)
        raise JWTRejected("kid is not in the issuer's JWK Set")
    url = jku if jku is not None else client.jwks_url
    assert url is not None
    fetcher = _jwk_clients.get(url)
    if fetcher is None:
        fetcher = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        _jwk_clients[url] = fetcher
    try:
        found = _find(fetcher.get_signing_keys(), kid)  # cached for 300 s
        now = time.monotonic()
        if found is None and now - _last_refresh.get(url, -REFRESH_INTERVAL_S) >= REFRESH_INTERVAL_S:
            _last_refresh[url] = now
            found = _find(fetcher.get_signing_keys(refresh=True), kid)
    except jwt.PyJWKClientConnectionError as exc:
        raise KeysUnavailable("the issuer's JWK Set could not be fetched") from exc
    except jwt.PyJWKClientError as exc:
        raise JWTRejected("the issuer's JWK Set is unusable") from exc
    if found is None:
        raise JWTRejected("kid is not in the issuer's JWK Set")
    return _check_key(found, alg)


def _find(keys: list[jwt.PyJWK], kid: str) -> jwt.PyJWK | None:
    return next((k for k in keys if k.key_id == kid), None)


def _check_key(key: jwt.PyJWK, alg: str) -> Any:
    # A key published for one algorithm must not verify another (e.g. an RSA key used as HMAC secret).
    declared = getattr(key, "_jwk_data", {}).get("alg")
    if declared and declared != alg:
        raise JWTRejected("the key's alg does not match the token's")
    if key.key_type != ("EC" if alg.startswith("ES") else "RSA"):
        raise JWTRejected(f"{alg} needs an {'EC' if alg.startswith('ES') else 'RSA'} key")
    return key.key


def verify(authorization: str | None, audience: str) -> tuple[Client, dict[str, Any]]:
    """Return the trusted client and the verified claims, or raise JWTRejected saying what is wrong."""
    if not authorization or not authorization.startswith("Bearer "):
        raise JWTRejected("send Authorization: Bearer <JWT>")
    token = authorization[len("Bearer ") :].strip()
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise JWTRejected("malformed JWT") from exc
    if header.get("typ") != "JWT":
        raise JWTRejected("typ must be JWT")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise JWTRejected(f"alg must be one of {', '.join(ALLOWED_ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JWTRejected("kid is required")
    iss = unverified.get("iss")
    client = trusted_clients().get(iss) if isinstance(iss, str) else None
    if client is None:
        raise JWTRejected("iss is not a trusted CDS client")
    jku = header.get("jku")
    if jku is not None and (not isinstance(jku, str) or jku not in client.jku_allowlist):
        # Checked before any key is fetched: the URL is the caller's, not ours.
        raise JWTRejected("jku is not on this client's allowlist")
    key = _signing_key(client, kid, alg, jku)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=iss,
            leeway=LEEWAY_SECONDS,
            # aud is checked below: PyJWT's strict mode refuses the array form the spec allows,
            # and its loose mode would accept any string containing the audience.
            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise JWTRejected("the JWT has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise JWTRejected("iat is in the future") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise JWTRejected(f"the {exc.claim} claim is required") from exc
    except jwt.PyJWTError as exc:
        raise JWTRejected("the JWT signature or claims are invalid") from exc
    if not audience_matches(claims["aud"], audience):
        raise JWTRejected("aud must be the URL called (a string, or an array naming it)")
    now = time.time()
    if claims["exp"] - now > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise JWTRejected(f"the JWT must expire within {MAX_LIFETIME_SECONDS} seconds")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise JWTRejected("jti must be a non-empty string")
    if not replay_cache_is_shared():
        raise ReplayCacheUnavailable(
            "the replay cache is not shared by every worker and server (set CACHE_URL to a Redis server)"
        )
    # Hashed: cache keys stay short and safe whatever the client puts in jti.
    digest = hashlib.sha256(f"{iss}\x00{jti}".encode()).hexdigest()
    ttl = max(1, int(claims["exp"] - now + LEEWAY_SECONDS))
    try:
        first_use = cache.add(JTI_PREFIX + digest, 1, timeout=ttl)
    except Exception as exc:  # the shared cache is down: a jti cannot be checked, so none is accepted
        raise ReplayCacheUnavailable("the replay cache is unavailable") from exc
    if not first_use:
        raise JWTRejected("this jti was already used")
    return client, claims


def audience_matches(aud: Any, audience: str) -> bool:
    """RFC 7519 4.1.3: one string, or an array of strings of which one is ours."""
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and all(isinstance(a, str) for a in aud) and audience in aud
