"""The naive way, for comparison: pandas row-wise ``apply`` with email-validator, phonenumbers and hashlib.

This is how most open tools prepare identifiers. It does the same work as the vectorized steps
(validate e-mail and phone, normalize, hash per destination rule set) one Python call per row.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

COUNTRIES = {
    "US": "US",
    "USA": "US",
    "UNITEDSTATES": "US",
    "GB": "GB",
    "UK": "GB",
    "DE": "DE",
    "FR": "FR",
    "BR": "BR",
    "CA": "CA",
}


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _email(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return raw.strip().lower()


def _phone(raw: Any, region: str) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _letters(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    letters = re.sub(r"[^\w]|[\d_]", "", raw.lower())
    return letters or None


def prepare_row(row: Any) -> dict[str, Any]:
    """Every destination's values for one member."""
    country = COUNTRIES.get(re.sub("[^A-Z]", "", str(row.country or "").upper()))
    email, phone = _email(row.email), _phone(row.phone, country or "US")
    first, last = _letters(row.first_name), _letters(row.last_name)
    out: dict[str, Any] = {"member_key": row.customer_id}
    if email:
        local, _, domain = email.partition("@")
        google = (
            (local.split("+")[0].replace(".", "") + "@" + domain)
            if domain in ("gmail.com", "googlemail.com")
            else email
        )
        out |= {
            "meta_email": _sha(email),
            "google_email": _sha(google),
            "hubspot_email": email,
            "clevertap_email": email,
        }
    if phone:
        out |= {"meta_phone": _sha(phone[1:]), "google_phone": _sha(phone), "clevertap_phone": phone}
    if first:
        out |= {"meta_fn": _sha(first), "meta_fi": _sha(first[0]), "google_given": _sha(first)}
    if last:
        out |= {"meta_ln": _sha(last), "google_family": _sha(last)}
    if isinstance(row.postal_code, str):
        out["meta_zip"] = _sha(row.postal_code.strip().lower().replace(" ", ""))
    if country:
        out["meta_country"] = _sha(country.lower())
    return out


def naive_prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """One Python call per row, as pandas ``apply`` does it."""
    return pd.DataFrame(list(frame.apply(prepare_row, axis=1)))
