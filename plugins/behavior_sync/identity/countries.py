"""Country values -> ISO 3166-1 alpha-2 codes, and US states -> their codes, as small lookup tables for DuckDB joins.

Warehouses hold countries as codes, alpha-3 codes and names in several languages and spellings
("US", "usa", "U.S.A.", "United States", "Deutschland"). A value is looked up by its *key*: upper
case with everything but A-Z removed (``country_key_sql``), so punctuation, spacing and case do not
matter. The table comes from pycountry (alpha-2, alpha-3, names) plus the common aliases below.
US states, DC and the territories ("California", "new york", "CA") are looked up the same way in
``us_state_table`` (pycountry's ISO 3166-2:US subdivisions, whose codes are the 2-letter ANSI / USPS codes).
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

# Common names that ISO's English names do not cover (endonyms, abbreviations, constituent countries).
ALIASES: dict[str, str] = {
    "AMERICA": "US",
    "UNITEDSTATESOFAMERICA": "US",
    "UK": "GB",
    "GREATBRITAIN": "GB",
    "BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERNIRELAND": "GB",
    "DEUTSCHLAND": "DE",
    "BRASIL": "BR",
    "ESPANA": "ES",
    "ITALIA": "IT",
    "NEDERLAND": "NL",
    "HOLLAND": "NL",
    "OSTERREICH": "AT",
    "SCHWEIZ": "CH",
    "SUISSE": "CH",
    "BELGIQUE": "BE",
    "BELGIE": "BE",
    "MEXICO": "MX",
    "PERU": "PE",
    "SOUTHKOREA": "KR",
    "KOREA": "KR",
    "RUSSIA": "RU",
    "VIETNAM": "VN",
    "UAE": "AE",
    "CZECHREPUBLIC": "CZ",
    "TURKEY": "TR",
    "IRELAND": "IE",
}


def country_key_sql(column: str) -> str:
    """SQL: the lookup key of a country value (upper case, accents stripped, letters A-Z only)."""
    return f"regexp_replace(upper(strip_accents(trim({column}))), '[^A-Z]', '', 'g')"


@cache
def country_table() -> pa.Table:
    """Arrow table ``(key, alpha2)``: every known spelling's key and its ISO alpha-2 code (keys unique)."""
    import pycountry  # only when identifiers are validated

    mapping: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [code, country.alpha_3, country.name]
        names += [getattr(country, attr, None) or "" for attr in ("common_name", "official_name")]
        for name in names:
            mapping.setdefault(_key(name), code)
    for alias, code in ALIASES.items():
        mapping.setdefault(alias, code)
    mapping.pop("", None)
    return pa.table({"key": list(mapping), "alpha2": list(mapping.values())})


US_STATE_ALIASES: dict[str, str] = {
    "WASHINGTONDC": "DC",
    "USVIRGINISLANDS": "VI",
    "VIRGINISLANDS": "VI",
}


@cache
def us_state_table() -> pa.Table:
    """Arrow table ``(key, code)``: the keys of US state, DC and territory names and codes -> 2-letter code."""
    import pycountry

    mapping: dict[str, str] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.country_code != "US":
            continue
        code = subdivision.code.removeprefix("US-")
        mapping[_key(code)] = code
        mapping[_key(subdivision.name)] = code
    mapping.update(US_STATE_ALIASES)
    return pa.table({"key": list(mapping), "code": list(mapping.values())})


def is_alpha2(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code (upper case)."""
    return code in set(country_table().column("alpha2").to_pylist())


def _key(name: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.upper())
    return "".join(c for c in folded if "A" <= c <= "Z")
