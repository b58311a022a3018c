"""Reading a client's FHIR server for the CDS service: paging, a bound, a deadline, and errors.

Searches ask for the newest results first (``_sort=-date`` in the templates), so
when paging stops at the bound what is lost is the oldest results, never the
newest value of a test. Every read of one hook call shares one deadline, so a
slow FHIR server makes us answer 412 in time rather than the EHR giving up on
us. A prefetch value or search page that is an OperationOutcome (the CDS Hooks
2.0 way for a client to say "I could not prefetch this") counts as missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

# Each page holds up to _count (200) results. Ten pages is 2000 Observations of the
# POEMS codes: decades of monthly blood counts, since the newest come first, while one
# call's time and memory stay bounded even against a server whose next links never end.
MAX_PAGES = 10
# One request may take at most this long...
REQUEST_TIMEOUT_SECONDS = 5.0
# ...and all the reads of one hook call together at most this long. EHRs commonly wait a
# few seconds for a hook's answer; past that the card is lost anyway, so we stop and say so.
DEADLINE_SECONDS = 8.0

_ERROR_SEVERITIES = frozenset({"fatal", "error"})


class FetchFailed(Exception):
    """A read failed (status, timeout, deadline, not JSON). The message names no patient data."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Reader:
    """The reads of one hook call against one FHIR server, sharing one deadline."""

    http: httpx.Client
    server: str
    headers: dict[str, str] = field(default_factory=dict)  # per call: the client's token
    deadline: float = field(default_factory=lambda: time.monotonic() + DEADLINE_SECONDS)
    notes: list[str] = field(default_factory=list)
    # Seconds spent waiting for the FHIR server, so a caller can tell its time from ours.
    waited: float = 0.0

    def _get(self, url: str) -> Any:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise FetchFailed("the FHIR reads ran past their deadline")
        started = time.perf_counter()
        try:
            response = self.http.get(
                url, headers=self.headers, timeout=min(REQUEST_TIMEOUT_SECONDS, remaining)
            )
        except httpx.HTTPError as exc:
            raise FetchFailed(f"FHIR read failed ({type(exc).__name__})") from exc
        finally:
            self.waited += time.perf_counter() - started
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise FetchFailed(f"FHIR read answered {response.status_code}", response.status_code)
        try:
            return response.json()
        except ValueError as exc:
            raise FetchFailed("FHIR read answered something that is not JSON") from exc

    def read(self, url: str) -> Any:
        """A resource, or a searchset Bundle with every page up to the bound; None when not found."""
        data = self._get(url)
        if is_outcome(data):
            raise FetchFailed("the FHIR server answered with an OperationOutcome")
        if isinstance(data, dict) and data.get("resourceType") == "Bundle":
            return self.rest_of(data)
        return data

    def rest_of(self, bundle: dict[str, Any], pages: int = 1) -> dict[str, Any]:
        """The bundle's entries and those of the pages its next links lead to, as one Bundle."""
        entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
        data = bundle
        while True:
            next_url = next_link(data)
            if next_url is None:
                break
            if not next_url.startswith(self.server + "/"):
                # Never follow a link off the FHIR server we were allowed to call.
                self.notes.append("More results were on a page outside the FHIR server; not read.")
                break
            if pages >= MAX_PAGES:
                self.notes.append(
                    f"Only the newest {len(entries)} results were read (a limit of {MAX_PAGES} pages); "
                    "older ones were not."
                )
                break
            try:
                data = self._get(next_url)
            except FetchFailed:
                if not entries:
                    raise
                # The newest pages are in hand: use them, and say the rest was not read.
                self.notes.append(f"Only the newest {len(entries)} results could be read in time.")
                break
            if not isinstance(data, dict) or data.get("resourceType") != "Bundle" or is_outcome(data):
                self.notes.append(f"Only the newest {len(entries)} results could be read.")
                break
            entries.extend(e for e in data.get("entry") or [] if isinstance(e, dict))
            pages += 1
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


# One connection pool for the service's FHIR reads, made once: building an httpx.Client
# (its TLS context) cost more than the rest of an order hook's own work. httpx.Client is
# thread-safe; each Reader sends its own call's token in its headers. The class is taken at
# import, so a test that swaps httpx.Client for its own client does not capture this pool.
_CLIENT_CLASS = httpx.Client
_shared: list[httpx.Client] = []


def shared_client() -> httpx.Client:
    if not _shared:
        _shared.append(_CLIENT_CLASS(follow_redirects=False))
    return _shared[0]


def next_link(bundle: Any) -> str | None:
    if not isinstance(bundle, dict):
        return None
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def is_outcome(value: Any) -> bool:
    """An OperationOutcome, or a Bundle carrying one that reports an error: the data is not there.

    A searchset may also carry an OperationOutcome of severity warning or information
    (search.mode "outcome", e.g. "a parameter was ignored"); its results are real and kept.
    """
    if not isinstance(value, dict):
        return False
    if value.get("resourceType") == "OperationOutcome":
        return True
    if value.get("resourceType") != "Bundle":
        return False
    for entry in value.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            issues = resource.get("issue") or []
            severities = {i.get("severity") for i in issues if isinstance(i, dict)}
            if not severities or severities & _ERROR_SEVERITIES:
                return True
    return False
