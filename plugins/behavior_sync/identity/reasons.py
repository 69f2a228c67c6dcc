"""Reason codes of dropped identifiers and quarantined members (stable: they land in history and Parquet).

An *identifier reason* says why one value of a member was dropped (the member may still sync through
its other identifiers). A *member reason* says why a whole member was set aside, for every
destination (``*``) or for one destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EMAIL_INVALID = "email_invalid"
EMAIL_LOCAL_PART_EMPTY = "email_local_part_empty"
PHONE_INVALID = "phone_invalid"
PHONE_UNPARSEABLE = "phone_unparseable"
PHONE_NUMERIC_INEXACT = "phone_numeric_inexact"
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
HASH_UNUSABLE_SUFFIX = "_hash_unusable"  # e.g. phone_hash_unusable: a destination cannot send the pre-hashed form

DUPLICATE_MEMBER_KEY = "duplicate_member_key"
MEMBER_KEY_MISSING = "member_key_missing"
NO_USABLE_IDENTIFIER = "no_usable_identifier"
CONSENT_NOT_GRANTED = "consent_not_granted"

ALL_DESTINATIONS = "*"

DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        EMAIL_INVALID: "not a valid e-mail address (syntax)",
        EMAIL_LOCAL_PART_EMPTY: "the part before @ is only a +tag (+tag@gmail.com): no mailbox name to match on",
        PHONE_INVALID: "parsed, but not a valid number for its region (libphonenumber)",
        PHONE_UNPARSEABLE: "not a phone number",
        PHONE_NUMERIC_INEXACT: (
            "a numeric (DOUBLE / FLOAT / DECIMAL) phone column holds a value that is not a whole number, or is beyond "
            "the range its type stores exactly (DOUBLE 2^53, FLOAT 2^24): its digits are unknown; store phones as text"
        ),
        COUNTRY_INVALID: "not an ISO 3166-1 country (code or known name)",
        POSTAL_CODE_INVALID: "does not have the postal code shape of the member's country",
        FIRST_NAME_INVALID: "no letters, or longer than 100 characters",
        LAST_NAME_INVALID: "no letters, or longer than 100 characters",
        CITY_INVALID: "no letters, or longer than 100 characters",
        STATE_INVALID: "no letters, longer than 100 characters, or (country US) not a US state, DC or territory",
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


def hash_unusable(field: str) -> str:
    """Reason code of a pre-hashed ``field`` that a destination cannot send (it needs another form)."""
    return f"{field}{HASH_UNUSABLE_SUFFIX}"


def describe(code: str) -> str:
    """Human description of a reason code."""
    if code.endswith(HASH_INVALID_SUFFIX):
        return "declared pre-hashed, but not 64 hexadecimal characters (SHA-256 hex)"
    if code.endswith(HASH_UNUSABLE_SUFFIX):
        return (
            "declared pre-hashed, but this destination needs the value unhashed or hashed in another form "
            "(a pre-hashed phone is SHA-256 of E.164 with the '+'; Meta hashes the digits without it)"
        )
    return DESCRIPTIONS.get(code, code)
