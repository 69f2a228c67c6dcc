"""Golden vectors for the normalization defects of issue 17 (states, +tag-only e-mails, invisible characters, IDN).

Each vector runs one value through the pipeline's own code (``identify``: validation in DuckDB, the
library fallback, the destination's rules) and compares what is sent with ``hashlib.sha256`` of the
normalized string the vendor's rule asks for, computed here. ``rule`` cites the vendor document
(URLs from shared/reference/destinations.md) or, where the vendors are silent, ADR 0014.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from behavior_sync.identity.identify import identify

META_RULES = "https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences"
GOOGLE_FORMAT = "https://developers.google.com/data-manager/api/devguides/concepts/formatting"
GOOGLE_ADS_CM = "https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Vector:
    """VALUE as FIELD for DESTINATION (member COUNTRY, if any) -> NORMALIZED (sent as its SHA-256)."""

    destination: str
    field: str
    value: str
    normalized: str
    rule: str
    country: str | None = None


VECTORS = (
    # Meta ST: "US: 2-character ANSI abbreviation code, lowercase; elsewhere lowercase, no punctuation/spaces"
    Vector("meta", "state", "California", "ca", META_RULES, "US"),
    Vector("meta", "state", "new york", "ny", META_RULES, "United States"),
    Vector("meta", "state", "NEW  YORK", "ny", META_RULES),  # no country: the behavior's default region (US)
    Vector("meta", "state", "District of Columbia", "dc", META_RULES, "US"),
    Vector("meta", "state", "Puerto Rico", "pr", META_RULES, "US"),
    Vector("meta", "state", "texas", "tx", META_RULES, "USA"),
    # Google given / family name: lower case, trimmed; invisible characters are not part of a name (ADR 0014)
    Vector("google", "first_name", "Jo\u200bhn", "john", GOOGLE_FORMAT),
    Vector("google", "first_name", "\u202eJohn\u202c", "john", GOOGLE_FORMAT),
    Vector("google", "first_name", "\u2066Ana\u2069\u200e", "ana", GOOGLE_FORMAT),
    Vector("google", "first_name", "Jo\x07hn\x1f", "john", GOOGLE_FORMAT),
    Vector("google", "first_name", "\ufeffZoe\u2060", "zoe", GOOGLE_FORMAT),
    Vector("google", "first_name", "Jose\u0301\u200d", "jos\u00e9", GOOGLE_FORMAT),  # NFC: one code point for é
    Vector("google", "last_name", " \u200fMüller\u200d ", "müller", GOOGLE_FORMAT),
    Vector("google", "last_name", "Anne\u00a0\u200b Marie", "anne marie", GOOGLE_FORMAT),
    # E-mails: NFC and IDN domains in Unicode form, one hash per address however it is spelled (ADR 0014)
    Vector("google", "email", "user@xn--bcher-kva.de", "user@bücher.de", GOOGLE_FORMAT),
    Vector("meta", "email", "user@XN--BCHER-KVA.DE", "user@bücher.de", META_RULES),
    Vector("meta", "email", "jose\u0301@example.com", "jos\u00e9@example.com", META_RULES),
    Vector("google", "email", "Jose\u0301.Luis+promo@gmail.com", "joséluis@gmail.com", GOOGLE_FORMAT),
    Vector("google", "email", "a.b+x@xn--gmil-moa.com", "a.b+x@gmäil.com", GOOGLE_FORMAT),  # not gmail: kept
)


def _id(vector: Vector) -> str:
    return f"{vector.destination}-{vector.field}-{vector.value.encode('unicode_escape').decode()[:28]}"


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_golden_vector_sends_the_sha256_of_the_vendors_normal_form(vector: Vector) -> None:
    verdict = identify(vector.destination, vector.field, vector.value, vector.country)
    assert verdict.valid, (vector.rule, verdict.reason)
    assert [(s.normalized, s.sent) for s in verdict.sent] == [(vector.normalized, sha256(vector.normalized))]


def test_two_spellings_of_one_idn_address_hash_the_same_for_every_hashing_destination() -> None:
    for destination in ("meta", "google"):
        spellings = ("a@bücher.de", "A@BÜCHER.DE", "a@xn--bcher-kva.de", "A@XN--BCHER-KVA.DE")
        sent = {identify(destination, "email", v).sent[0].sent for v in spellings}
        assert sent == {sha256("a@bücher.de")}


@pytest.mark.parametrize(
    "value",
    ["+tag@gmail.com", "+@gmail.com", "+Tag.x@GoogleMail.com", "+tägg@gmail.com", "+news@example.com"],
)
@pytest.mark.parametrize("destination", ["google", "meta", "hubspot", "clevertap"])
def test_an_email_whose_local_part_is_only_a_plus_tag_is_refused_with_its_reason(destination: str, value: str) -> None:
    # Google (GOOGLE_FORMAT): for gmail.com / googlemail.com remove dots and "+ and everything after it" from the
    # local part: "+tag@gmail.com" would become "@gmail.com", which is nobody. The fast path (ASCII) and the
    # library path (non-ASCII "+tägg") both refuse it.
    verdict = identify(destination, "email", value)
    assert verdict.reason == "email_local_part_empty"
    assert all(s.sent != sha256("@gmail.com") for s in verdict.sent)


def test_meta_state_is_refused_when_not_a_us_state_of_a_us_member_and_kept_as_letters_elsewhere() -> None:
    # META_RULES: a US state must be its 2-letter code; "calif" would never match, so it is refused.
    assert identify("meta", "state", "Calif.", "US").reason == "state_invalid"
    # Elsewhere: lower case, no punctuation or spaces. Without a country the US region is only the behavior's
    # default, so a value that is no US state is kept by that rule.
    for value, country, normalized in [
        ("Ontario", None, "ontario"),
        ("Île-de-France", "FR", "iledefrance"),
        ("Baden-Württemberg", "DE", "badenwurttemberg"),
        ("New York", "CA", "newyork"),  # a Canadian member's "New York" is not the US state
    ]:
        assert identify("meta", "state", value, country).sent[0].sent == sha256(normalized)
