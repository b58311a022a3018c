"""A trusted CDS client as plain data, and the one reading of its entry.

The same entry shape comes from the CDS_HOOKS_CLIENTS file and from a ``CdsClient``
row in the admin, so both are checked by ``parse_entry``: a key URL over plain http
to another machine, or a jku allowlist that is not a list of such URLs, is refused
wherever it comes from.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache

# The admin's clients are read through the shared cache: a save or delete anywhere clears
# this key (``clear_client_cache``, connected in models), and without a shared cache another
# worker sees the change within DB_CLIENTS_TTL_SECONDS.
DB_CLIENTS_KEY = "poemsaid:cds-clients:v1"
DB_CLIENTS_TTL_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Client:
    iss: str
    jwks: dict[str, Any] | None
    jwks_url: str | None
    # FHIR base URLs this client may ask us to fetch from (fhirServer); none means no fetching.
    fhir_servers: tuple[str, ...] = ()
    # JWK Set URLs this client may name in a token's jku header; none means a jku is refused.
    jku_allowlist: tuple[str, ...] = ()
    # Browser origins allowed to call (CORS), beside CDS_HOOKS_ALLOWED_ORIGINS.
    allowed_origins: tuple[str, ...] = ()
    active: bool = True


def trusted_transport(url: object) -> bool:
    """https, or plain http to this machine itself (a test EHR, a sidecar): nothing in between."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _strings(entry: dict[str, Any], key: str) -> list[str] | None:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        return None
    return value


def parse_entry(iss: str, entry: Any, active: bool = True) -> Client:
    """The client, or ValueError naming what is wrong with the entry."""
    if not isinstance(entry, dict) or (entry.get("jwks") is not None) == bool(entry.get("jwks_url")):
        raise ValueError(f"client {iss!r} needs exactly one of 'jwks' or 'jwks_url'.")
    jwks = entry.get("jwks")
    if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
        raise ValueError(f"client {iss!r}: 'jwks' must be a JWK Set, {{\"keys\": [...]}}.")
    jwks_url = entry.get("jwks_url") or None
    if jwks_url is not None and not trusted_transport(jwks_url):
        raise ValueError(
            f"client {iss!r}: 'jwks_url' must be an https:// URL (http:// only on this machine's "
            "loopback): the keys it serves decide whose requests are trusted."
        )
    servers = _strings(entry, "fhir_servers")
    if servers is None:
        raise ValueError(f"client {iss!r}: 'fhir_servers' must be a list of URLs.")
    jkus = _strings(entry, "jku_allowlist")
    if jkus is None or not all(trusted_transport(u) for u in jkus):
        raise ValueError(
            f"client {iss!r}: 'jku_allowlist' must be a list of https:// URLs (http:// only on this "
            "machine's loopback)."
        )
    origins = _strings(entry, "allowed_origins")
    if origins is None or not all(urlsplit(o).scheme in ("https", "http") for o in origins):
        raise ValueError(
            f"client {iss!r}: 'allowed_origins' must be a list of origins, e.g. https://ehr.example.org."
        )
    return Client(
        iss,
        jwks,
        jwks_url,
        tuple(u.rstrip("/") for u in servers),
        tuple(jkus),
        tuple(o.rstrip("/") for o in origins),
        active,
    )


def clear_client_cache(**_: Any) -> None:
    """Connected to CdsClient's post_save and post_delete."""
    with contextlib.suppress(Exception):  # a cache outage: the entry expires on its own
        cache.delete(DB_CLIENTS_KEY)
