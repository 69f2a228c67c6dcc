"""The vectorized fast paths never disagree with the libraries they stand in for.

A fast path may leave a value undecided (the library then decides), but what it decides must be
what libphonenumber / email-validator decide. Checked on every region's example numbers in several
formats, on the demo warehouse's messy phones and e-mails, and on hand-made tricky values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
import pytest
from email_validator import EmailNotValidError, validate_email

from behavior_sync.identity import emails, phones

FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)


def fast_e164(values: list[tuple[str, str]]) -> list[str | None]:
    """The fast path's E.164 (or None) for (trimmed value, region) pairs, in order."""
    con = duckdb.connect()
    con.register(
        "t", pa.table({"i": range(len(values)), "raw": [v for v, _ in values], "region": [r for _, r in values]})
    )
    sql = phones.fast_e164_query("SELECT * FROM t", "raw", "region", {r for _, r in values}, "e164")
    return [row[0] for row in con.execute(f"SELECT e164 FROM ({sql}) ORDER BY i").fetchall()]


def library_e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, FORMATS[2]) if phonenumbers.is_valid_number(number) else None


def region_examples() -> list[tuple[str, str]]:
    """Every supported region's example numbers of every type, formatted three ways, plus 'national digits'."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            out += [(phonenumbers.format_number(number, f), region) for f in FORMATS]
            out.append((phonenumbers.national_significant_number(number), region))
    return out


def test_phone_fast_path_agrees_with_libphonenumber_on_every_regions_examples() -> None:
    values = region_examples()
    decided = 0
    for (value, region), fast in zip(values, fast_e164(values), strict=True):
        if fast is not None:
            decided += 1
            assert fast == library_e164(value, region), (value, region)
    assert decided / len(values) > 0.85, f"the fast path decided only {decided} of {len(values)}"


TRICKY_PHONES = [
    ("+1 (650) 555-1212", "US"),
    ("1-650-555-1212", "US"),
    ("650.555.1212", "US"),
    ("6505551212", "CA"),
    ("+44 (0)20 7946 0123", "GB"),
    ("020 7946 0123", "GB"),
    ("+442079460123", "DE"),
    ("0044 20 7946 0123", "GB"),
    ("0152 06139197", "DE"),
    ("+49 152 06139197", "DE"),
    ("06 12 34 56 78", "FR"),
    ("+33 (0)6 12 34 56 78", "FR"),
    ("(11) 91234-5678", "BR"),
    ("0 21 11 91234 5678", "BR"),
    ("02 1234 5678", "IT"),
    ("+39 02 1234 5678", "IT"),
    ("090-1234-5678", "JP"),
    ("011 15 2345-6789", "AR"),
    ("55 1234 5678", "MX"),
    ("+1 800 555 0100", "US"),
    ("555-0100", "US"),
    ("1", "US"),
    ("+", "US"),
    ("00", "FR"),
    ("+999 1234", "US"),
    ("12345678901234567", "US"),
]


def test_phone_fast_path_agrees_on_tricky_formats() -> None:
    for (value, region), fast in zip(TRICKY_PHONES, fast_e164(TRICKY_PHONES), strict=True):
        assert fast is None or fast == library_e164(value, region), (value, region)


def demo_values(tmp_path: Path, column: str) -> list[tuple[str, str]]:
    from behavior_sync.demo_warehouse import generate_demo_warehouse

    path = tmp_path / "w.duckdb"
    generate_demo_warehouse(path, seed=11, as_of=dt.date(2026, 11, 23), customers=4_000)
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute(
        f"SELECT trim({column}), CASE WHEN upper(trim(country)) IN ('US','GB','DE','FR','BR','CA') "
        f"THEN upper(trim(country)) ELSE 'US' END FROM customers WHERE {column} IS NOT NULL AND trim({column}) <> ''"
    ).fetchall()
    return [(value, region) for value, region in rows]


@pytest.mark.slow
def test_phone_fast_path_agrees_on_the_demo_warehouse_and_decides_most(tmp_path: Path) -> None:
    values = demo_values(tmp_path, "phone")
    results = fast_e164(values)
    for (value, region), fast in zip(values, results, strict=True):
        assert fast is None or fast == library_e164(value, region), (value, region)
    assert sum(r is not None for r in results) / len(values) > 0.95


def fast_email_status(values: list[str]) -> list[str | None]:
    con = duckdb.connect()
    con.register("t", pa.table({"i": range(len(values)), "e": values}))
    return [row[0] for row in con.execute(f"SELECT {emails.fast_status_sql('e')} FROM t ORDER BY i").fetchall()]


def library_valid(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


TRICKY_EMAILS = [
    "a@b.co",
    "a@b.c",
    "first.last@example.com",
    "first..last@example.com",
    ".first@example.com",
    "first.@example.com",
    "a+tag@gmail.com",
    "o'brien@example.ie",
    "x@sub.example.co.uk",
    "x@-example.com",
    "x@example-.com",
    "x@example",
    "x@localhost",
    "x@example.local",
    "x@host.test",
    "x@x.invalid",
    "x@123.com",
    "x@example.123",
    "a@@b.com",
    "a b@example.com",
    "@example.com",
    "a@",
    "josé@example.com",
    "a@exämple.com",
    '"q"@example.com',
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "user@[192.168.0.1]",
    "user@example.com.",
    "a!#$%&*/=?^_`{|}~-@example.org",
    "no-at-sign",
    "",
    "user@xn--bcher-kva.de",
    "a.b+x@xn--gmil-moa.com",
    "user@sub.xn--bcher-kva.de",
    "xn--user@example.com",
    "+tag@gmail.com",
]


def test_email_fast_path_never_accepts_or_refuses_against_email_validator() -> None:
    for email, status in zip(TRICKY_EMAILS, fast_email_status(TRICKY_EMAILS), strict=True):
        if status is not None:
            assert (status == "valid") == library_valid(email), email


def library_normalized(email: str) -> str | None:
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def test_email_fast_path_accepts_only_addresses_already_in_email_validators_normal_form() -> None:
    # The library path sends email-validator's normalized form (NFC, Unicode IDN domain): an address the fast path
    # accepts must already be in it, or one person's two spellings (bücher.de / xn--bcher-kva.de) hash differently.
    for email, status in zip(TRICKY_EMAILS, fast_email_status(TRICKY_EMAILS), strict=True):
        if status == "valid":
            assert library_normalized(email) == email, email


@pytest.mark.slow
def test_email_fast_path_agrees_on_the_demo_warehouse(tmp_path: Path) -> None:
    values = [value.lower() for value, _ in demo_values(tmp_path, "email")]
    statuses = fast_email_status(values)
    for email, status in zip(values, statuses, strict=True):
        if status is not None:
            assert (status == "valid") == library_valid(email), email
        if status == "valid":
            assert library_normalized(email) == email, email
    assert sum(s is not None for s in statuses) / len(values) > 0.98
