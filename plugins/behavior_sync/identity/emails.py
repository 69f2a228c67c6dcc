"""E-mail syntax, vectorized: a DuckDB fast path accepts plain ASCII addresses, email-validator decides the rest.

The fast path accepts only what email-validator (``check_deliverability=False``) accepts too, and only
addresses that are already in email-validator's normalized form: an ASCII dot-atom local part of at
most 64 characters, a domain of LDH labels with an alphabetic top-level label and no IDNA label
(``xn--``), at most 254 characters, and no special-use domain (IANA list taken from email-validator
itself). Addresses without an ``@`` or longer than 254 characters are refused at once. Everything else
(internationalized addresses, punycode domains, odd but legal forms) is left undecided for
``resolve_slow_emails``, which gives email-validator's normalized form: the local part in NFC and the
domain in Unicode (``user@xn--bcher-kva.de`` -> ``user@bücher.de``), so every spelling of one address
hashes the same (ADR 0014). Tests check that the fast path never accepts what email-validator refuses
and that what it accepts is already normalized.
"""

from __future__ import annotations

import re
from functools import cache

import pyarrow as pa

from behavior_sync.identity.reasons import EMAIL_INVALID

ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
LOCAL = rf"{ATEXT}+(\.{ATEXT}+)*"
LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = rf"({LABEL}\.)+[a-z]{{2,63}}"
MAX_EMAIL = 254


@cache
def special_use_domains() -> tuple[str, ...]:
    """Domains email-validator refuses for deliverable addresses (``arpa``, ``local``, ``test``...)."""
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return tuple(SPECIAL_USE_DOMAIN_NAMES)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fast_status_sql(e: str) -> str:
    """SQL: 'valid' / 'invalid' / NULL (undecided) for ``e``, a lower-cased, trimmed, non-NULL address."""
    names = "|".join(re.escape(d) for d in special_use_domains())
    special = f"regexp_matches({e}, {_quote(f'[@.](?:{names})$')})" if names else "false"
    return (
        f"CASE WHEN NOT contains({e}, '@') OR length({e}) > {MAX_EMAIL} THEN 'invalid' "
        f"WHEN regexp_full_match({e}, {_quote(LOCAL + '@' + DOMAIN)}) AND NOT contains({e}, 'xn--') "
        f"AND length(split_part({e}, '@', 1)) <= 64 AND NOT {special} THEN 'valid' END"
    )


def normalized_email(address: str) -> str | None:
    """email-validator's normalized form of a lower-cased ``address`` (NFC local part, Unicode domain);
    None when it is not a valid address. Pure: never logs or raises with a value."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def resolve_slow_emails(values: pa.Table) -> pa.Table:
    """email-validator on distinct lower-cased ``raw`` addresses -> adds ``email`` (normalized) and ``reason``
    (one of them is NULL)."""
    normalized = [normalized_email(raw) for raw in values.column("raw").to_pylist()]
    reasons = [EMAIL_INVALID if email is None else None for email in normalized]
    return values.append_column("email", pa.array(normalized, pa.string())).append_column(
        "reason", pa.array(reasons, pa.string())
    )
