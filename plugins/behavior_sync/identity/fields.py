"""Per-field validation as DuckDB SQL: a *canonical* value (destination-independent) or NULL when invalid.

Every expression takes ``v``, the raw value as text with surrounding whitespace removed and empty
strings turned into NULL (``clean_sql``): NULL in means "absent", never "invalid". The canonical
form is what every destination's rule set starts from (``rules.py``):

======== ========================================================================
field    canonical form
======== ========================================================================
email    lower case (syntax checked in ``emails.py``)
phone    E.164 with the plus (``phones.py``)
names    invisible characters removed, NFC, inner whitespace collapsed, original case (rule sets lower-case it)
state    as names; for a member in the US (country, else default region) its 2-letter code (``CA``)
country  ISO 3166-1 alpha-2, upper case (``countries.py``)
postal   upper case, one inner space, checked against the country's shape when known
dob      a DATE in 1900-01-01 .. today
gender   ``m`` or ``f``
madid    lower-case UUID (IDFA / AAID), the all-zero id refused
======== ========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from behavior_sync.identity import reasons as r

# Whitespace trimmed from every value: ASCII whitespace, no-break, zero-width and ideographic spaces.
WHITESPACE = "\t\n\x0b\x0c\r \u00a0\u200b\ufeff\u3000"
_EDGE_SPACE = "'^[\\s\\x{00a0}\\x{200b}\\x{feff}\\x{3000}]|[\\s\\x{00a0}\\x{200b}\\x{feff}\\x{3000}]$'"
# Characters that show nothing but make two equal-looking names differ: controls (C0 but whitespace, DEL, C1),
# zero-width (U+200B..U+200D, U+2060, U+FEFF) and bidi marks, embeddings and isolates (U+200E, U+200F,
# U+202A..U+202E, U+2066..U+2069).
INVISIBLE = (
    "[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x{9f}\\x{200b}-\\x{200f}\\x{202a}-\\x{202e}\\x{2060}\\x{2066}-\\x{2069}\\x{feff}]"
)
MAX_TEXT = 100
HEX64 = "'[0-9a-f]{64}'"
# The largest whole numbers a binary float type holds exactly (every integer up to them has its own value).
EXACT_FLOAT_INTEGERS: Mapping[str, int] = MappingProxyType({"FLOAT": 2**24, "DOUBLE": 2**53})

# Postal code shapes (upper case, one inner space at most) where the country's format is known.
POSTAL_SHAPES: Mapping[str, str] = MappingProxyType(
    {
        "US": r"[0-9]{5}(-?[0-9]{4})?",
        "CA": r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]",
        "GB": r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}",
        "DE": r"[0-9]{5}",
        "FR": r"[0-9]{5}",
        "ES": r"[0-9]{5}",
        "IT": r"[0-9]{5}",
        "MX": r"[0-9]{5}",
        "BR": r"[0-9]{5}-?[0-9]{3}",
        "NL": r"[0-9]{4} ?[A-Z]{2}",
        "AU": r"[0-9]{4}",
        "IN": r"[0-9]{6}",
        "JP": r"[0-9]{3}-?[0-9]{4}",
    }
)
GENERIC_POSTAL = r"[A-Z0-9][A-Z0-9 -]{1,9}"


def clean_sql(column: str) -> str:
    """SQL: the column as text, surrounding whitespace trimmed, '' -> NULL."""
    text = f"CAST({column} AS VARCHAR)"
    # trim() with a character set is slow on every row: only rows with whitespace at an edge pay for it
    trimmed = f"CASE WHEN regexp_matches({text}, {_EDGE_SPACE}) THEN trim({text}, '{WHITESPACE}') ELSE {text} END"
    return f"NULLIF({trimmed}, '')"


def text_sql(v: str) -> str:
    """Names, cities, states: invisible characters removed, NFC, whitespace runs (any Unicode space) -> one
    space, trimmed; NULL without a letter or when too long (invisible characters are not letters).

    The slow rewrite runs only on the rows that need it (non-ASCII, controls, inner whitespace runs).
    """
    visible = f"nfc_normalize(regexp_replace({v}, '{INVISIBLE}', '', 'g'))"
    slow = f"trim(regexp_replace({visible}, '[\\s\\pZ]+', ' ', 'g'))"
    norm = f"CASE WHEN regexp_matches({v}, '[^\\x20-\\x7e]|\\s\\s') THEN {slow} ELSE {v} END"
    return f"CASE WHEN length({v}) <= {MAX_TEXT} AND regexp_matches({v}, '\\pL') THEN {norm} END"


def state_sql(v: str, country: str, us_code: str) -> str:
    """State: a US member's state as its 2-letter code, else ``text_sql``.

    ``us_code`` is the code of a recognized US state name or code (else NULL), looked up only for members
    whose region (country, else the behavior's default region) is US. An unrecognized state is refused
    when the member's own ``country`` is US, and kept as text when the US region is only the default.
    """
    return f"CASE WHEN {us_code} IS NOT NULL THEN {us_code} WHEN {country} = 'US' THEN NULL ELSE {text_sql(v)} END"


def exact_number_sql(column: str, type_name: str) -> str | None:
    """SQL: a numeric column's whole value as its integer digits, NULL when not whole or not exactly stored.

    ``type_name`` is the column's DuckDB type: FLOAT / DOUBLE values must be whole and within
    ``EXACT_FLOAT_INTEGERS`` (NaN and infinities are refused), DECIMAL values whole. None for other types
    (text and integer types are already exact as text).
    """
    whole = f"{column} = trunc({column})"
    if type_name in EXACT_FLOAT_INTEGERS:
        whole += f" AND abs({column}) <= {EXACT_FLOAT_INTEGERS[type_name]}"
    elif not type_name.startswith("DECIMAL"):
        return None
    return f"CASE WHEN {whole} THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR) END"


def postal_sql(v: str, country: str) -> str:
    """Postal code: upper case, whitespace runs -> one space (GB/CA: ``OUT IN``); NULL when the shape is wrong.

    ``country`` is the member's canonical country (NULL: only the generic shape is checked).
    """
    up = f"regexp_replace(upper({v}), '\\s+', ' ', 'g')"
    shapes = " ".join(f"WHEN '{cc}' THEN regexp_full_match({up}, '{shape}')" for cc, shape in POSTAL_SHAPES.items())
    ok = f"CASE {country} {shapes} ELSE regexp_full_match({up}, '{GENERIC_POSTAL}') END"
    compact = f"replace({up}, ' ', '')"
    spaced = f"left({compact}, length({compact}) - 3) || ' ' || right({compact}, 3)"  # inward code apart
    return f"CASE WHEN {ok} THEN CASE WHEN {country} IN ('GB', 'CA') THEN {spaced} ELSE {up} END END"


def dob_sql(v: str) -> str:
    """Date of birth as DATE (ISO text or a date column), NULL outside 1900-01-01 .. today."""
    d = f"TRY_CAST({v} AS DATE)"
    return f"CASE WHEN {d} BETWEEN DATE '1900-01-01' AND current_date THEN {d} END"


def gender_sql(v: str) -> str:
    """``m`` / ``f`` from m, male, man, f, female, woman, w (any case); NULL otherwise."""
    return (
        f"CASE lower({v}) WHEN 'm' THEN 'm' WHEN 'male' THEN 'm' WHEN 'man' THEN 'm' "
        f"WHEN 'f' THEN 'f' WHEN 'female' THEN 'f' WHEN 'woman' THEN 'f' WHEN 'w' THEN 'f' END"
    )


def mobile_id_sql(v: str) -> str:
    """Advertising id: lower-case UUID shape, not all zeros (limit-ad-tracking devices send zeros)."""
    low = f"lower({v})"
    uuid = "'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'"
    return (
        f"CASE WHEN regexp_full_match({low}, {uuid}) AND {low} <> '00000000-0000-0000-0000-000000000000' THEN {low} END"
    )


def external_id_sql(v: str) -> str:
    """External / CRM id: kept as is (trimmed); NULL when longer than 256 or with control characters."""
    return f"CASE WHEN length({v}) <= 256 AND NOT regexp_matches({v}, '[\\x00-\\x1f\\x7f]') THEN {v} END"


def prehashed_sql(v: str) -> str:
    """A pre-hashed value: lower-case 64-hex SHA-256, else NULL."""
    return f"CASE WHEN regexp_full_match(lower({v}), {HEX64}) THEN lower({v}) END"


# Plain fields: (canonical SQL builder, reason code when a present value is refused).
PLAIN_FIELDS: Mapping[str, tuple[Callable[[str], str], str]] = MappingProxyType(
    {
        "first_name": (text_sql, r.FIRST_NAME_INVALID),
        "last_name": (text_sql, r.LAST_NAME_INVALID),
        "city": (text_sql, r.CITY_INVALID),
        "state": (text_sql, r.STATE_INVALID),
        "date_of_birth": (dob_sql, r.DATE_OF_BIRTH_INVALID),
        "gender": (gender_sql, r.GENDER_UNSUPPORTED),
        "mobile_id": (mobile_id_sql, r.MOBILE_ID_INVALID),
        "external_id": (external_id_sql, r.EXTERNAL_ID_INVALID),
    }
)
