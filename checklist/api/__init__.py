"""API: the JSON endpoints under /api/v1/ and their OpenAPI document.

Stateless, no session and no CSRF token (design.md §3.4). Imports content and the
engine; never the web or EHR rooms.
"""
