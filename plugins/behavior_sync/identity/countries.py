"""Country values -> ISO 3166-1 alpha-2 codes, as a small lookup table for DuckDB joins.

Warehouses hold countries as codes, alpha-3 codes and names in several languages and spellings
("US", "usa", "U.S.A.", "United States", "Deutschland"). A value is looked up by its *key*: upper
case with everything but A-Z removed (``country_key_sql``), so punctuation, spacing and case do not
matter. The table comes from pycountry (alpha-2, alpha-3, names) plus the common aliases below.
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


def is_alpha2(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code (upper case)."""
    return code in set(country_table().column("alpha2").to_pylist())


def _key(name: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.upper())
    return "".join(c for c in folded if "A" <= c <= "Z")
