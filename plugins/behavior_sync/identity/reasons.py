"""Reason codes of dropped identifiers and quarantined members (stable: they land in history and Parquet).

An *identifier reason* says why one value of a member was dropped (the member may still sync through
its other identifiers). A *member reason* says why a whole member was set aside, for every
destination (``*``) or for one destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EMAIL_INVALID = "email_invalid"
PHONE_INVALID = "phone_invalid"
PHONE_UNPARSEABLE = "phone_unparseable"
COUNTRY_INVALID = "country_invalid"
POSTAL_CODE_INVALID = "postal_code_invalid"
FIRST_NAME_INVALID = "first_name_invalid"
LAST_NAME_INVALID = "last_name_invalid"
CITY_INVALID = "city_invalid"
STATE_INVALID = "state_invalid"
DATE_OF_BIRTH_INVALID = "date_of_birth_invalid"
GENDER_UNSUPPORTED = "gender_unsupported"
MOBILE_ID_INVALID = "mobile_id_invalid"
EXTERNAL_ID_INVALID = "external_id_invalid"
HASH_INVALID_SUFFIX = "_hash_invalid"  # e.g. email_hash_invalid: a pre-hashed column not holding 64 hex

DUPLICATE_MEMBER_KEY = "duplicate_member_key"
MEMBER_KEY_MISSING = "member_key_missing"
NO_USABLE_IDENTIFIER = "no_usable_identifier"
CONSENT_NOT_GRANTED = "consent_not_granted"

ALL_DESTINATIONS = "*"

DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        EMAIL_INVALID: "not a valid e-mail address (syntax)",
        PHONE_INVALID: "parsed, but not a valid number for its region (libphonenumber)",
        PHONE_UNPARSEABLE: "not a phone number",
        COUNTRY_INVALID: "not an ISO 3166-1 country (code or known name)",
        POSTAL_CODE_INVALID: "does not have the postal code shape of the member's country",
        FIRST_NAME_INVALID: "no letters, or longer than 100 characters",
        LAST_NAME_INVALID: "no letters, or longer than 100 characters",
        CITY_INVALID: "no letters, or longer than 100 characters",
        STATE_INVALID: "no letters, or longer than 100 characters",
        DATE_OF_BIRTH_INVALID: "not a date between 1900-01-01 and today",
        GENDER_UNSUPPORTED: "not m/male or f/female (the only values ad platforms match on)",
        MOBILE_ID_INVALID: "not an advertising id (IDFA/AAID UUID shape), or the all-zero id",
        EXTERNAL_ID_INVALID: "empty after trimming, longer than 256 characters or with control characters",
        DUPLICATE_MEMBER_KEY: "another row has the same member key (one row is kept)",
        MEMBER_KEY_MISSING: "the member key is NULL or empty",
        NO_USABLE_IDENTIFIER: "no valid identifier this destination can match on",
        CONSENT_NOT_GRANTED: "consent for ad_user_data or ad_personalization is not GRANTED (Google Customer Match)",
    }
)


def hash_invalid(field: str) -> str:
    """Reason code of a pre-hashed ``field`` whose value is not 64 hexadecimal characters."""
    return f"{field}{HASH_INVALID_SUFFIX}"


def describe(code: str) -> str:
    """Human description of a reason code."""
    if code.endswith(HASH_INVALID_SUFFIX):
        return "declared pre-hashed, but not 64 hexadecimal characters (SHA-256 hex)"
    return DESCRIPTIONS.get(code, code)
