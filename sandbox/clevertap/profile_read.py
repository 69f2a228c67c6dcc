"""``GET /1/profile.json``: one user profile by ``identity``, ``email`` or ``objectId`` (CleverTap's Get User
Profile by ID; the region's host, the account's headers, 3 concurrent calls like the other non-upload APIs).

Found: HTTP 200 ``{"status": "success", "record": {...}}``; the record names the profile's CleverTap id
(``objectId``) and identifiers, its standard keys in lower case (``name``, ``email``, ``phone``...), custom
properties under ``profileData`` and an empty ``platformInfo`` (the sandbox has no devices). Not found:
HTTP 200 ``{"status": "fail", "error": "User not found", "code": 404}`` (the not-found answer's exact
form is UNCONFIRMED; clients should treat any ``fail`` status as "no such profile"). A request naming no
identifier, or several, is refused with HTTP 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.clevertap import errors
from sandbox.clevertap.profile_data import STANDARD_KEYS
from sandbox.clevertap.records import Subject
from sandbox.clevertap.store import Profile, Store

LOOKUPS = {"identity": "identity", "email": "Email", "objectId": "objectId"}


def read_profile(store: Store, account_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The answer body of a profile read; raises ``CleverTapError`` (400) for a bad query."""
    given = [key for key in LOOKUPS if query.get(key)]
    if len(given) != 1:
        raise errors.bad_request("Pass exactly one of identity, email or objectId")
    key = given[0]
    with store.lock:
        data = store.accounts[account_id]
        if key == "email":
            found = next((p for p in data.profiles.values() if p.properties.get("Email") == query[key]), None)
        else:
            found = data.find(Subject(LOOKUPS[key], query[key]))
        if found is None:
            return {"status": "fail", "error": "User not found", "code": 404}
        return {"status": "success", "record": _record(found)}


def _record(profile: Profile) -> dict[str, Any]:
    standard = {k.lower(): v for k, v in profile.properties.items() if k in STANDARD_KEYS}
    custom = {k: v for k, v in profile.properties.items() if k not in STANDARD_KEYS}
    return {"objectId": profile.guid, **profile.ids, **standard, "profileData": custom, "platformInfo": []}
