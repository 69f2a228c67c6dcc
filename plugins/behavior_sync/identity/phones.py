"""Phone numbers -> E.164, vectorized: a DuckDB fast path decides most rows, libphonenumber the rest.

The fast path mirrors libphonenumber's parsing for the unambiguous cases, with the region's own
validation patterns (taken from the ``phonenumbers`` metadata at run time, so both paths agree by
construction): separators removed; a leading ``+`` must be followed by the region's calling code; the
region's national prefix is stripped when the number is not viable without stripping; the result is
accepted only when it matches one of the region's number-type patterns and lengths. Anything else
(other calling codes, international dialling prefixes, letters, extensions, regions whose prefix
rules transform digits, ambiguous prefixes) is left NULL for ``resolve_slow_phones``, which calls
``phonenumbers`` once per distinct (value, region). Tests check that the two paths agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from behavior_sync.identity.reasons import PHONE_INVALID, PHONE_UNPARSEABLE

# Characters people put between digits: whitespace (incl. no-break and thin spaces), brackets,
# dots, slashes and every kind of dash.
SEPARATORS = r"[\s\x{00A0}\x{2007}\x{202F}\x{2010}-\x{2015}\x{2212}().\-/]"
MAX_PHONE_CHARS = 64  # longer values are not phone numbers; never handed to libphonenumber
# Most numbers are fixed-line or mobile: those are tested first (DuckDB skips decided rows in an OR).
_TYPE_DESCS = (
    "fixed_line",
    "mobile",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True)
class RegionRules:
    """What the fast path needs of one region, from libphonenumber's metadata."""

    region: str
    calling_code: str
    national_prefix: str | None  # a regex matched at the start; None when absent or transforming
    general: tuple[str, tuple[int, ...]]
    types: tuple[tuple[str, tuple[int, ...]], ...]


@cache
def region_rules(region: str) -> RegionRules | None:
    """Rules of ``region`` (ISO alpha-2), or None when libphonenumber has no metadata for it."""
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or not meta.general_desc.national_number_pattern:
        return None
    prefix = meta.national_prefix_for_parsing
    usable_prefix = prefix if prefix and not meta.national_prefix_transform_rule else None
    types = tuple(
        (desc.national_number_pattern, tuple(desc.possible_length or ()))
        for desc in (getattr(meta, name) for name in _TYPE_DESCS)
        if desc is not None and desc.national_number_pattern
    )
    general = (meta.general_desc.national_number_pattern, tuple(meta.general_desc.possible_length or ()))
    return RegionRules(region, str(meta.country_code), usable_prefix, general, types)


def _quote(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def _matches(expr: str, pattern: str, lengths: tuple[int, ...]) -> str:
    full = f"regexp_full_match({expr}, {_quote(pattern)})"
    if not lengths or lengths == (-1,):
        return full
    return f"(length({expr}) IN ({', '.join(str(n) for n in lengths)}) AND {full})"


def _valid(rules: RegionRules, expr: str) -> str:
    """SQL: libphonenumber's is_valid_number for a national significant number of ``rules.region``."""
    types = " OR ".join(_matches(expr, p, lens) for p, lens in rules.types) or "false"
    return f"({_matches(expr, *rules.general)} AND ({types}))"


def _candidate(rules: RegionRules, rest: str) -> str:
    """SQL: the national number libphonenumber keeps after its national-prefix rule (NULL if ambiguous)."""
    if rules.national_prefix is None:
        return rest
    prefix = _quote(f"^(?:{rules.national_prefix})")
    viable = f"regexp_full_match({rest}, {_quote(rules.general[0])})"
    return (
        f"CASE WHEN NOT regexp_matches({rest}, {prefix}) THEN {rest} "
        f"WHEN NOT {viable} THEN regexp_replace({rest}, {prefix}, '') END"
    )


def fast_e164_query(source: str, raw: str, region: str, regions: Iterable[str], out: str) -> str:
    """SQL query: every column of ``source`` plus ``out``, the E.164 of ``raw`` or NULL when undecided.

    ``raw`` holds trimmed, non-empty phones (or NULL); ``region`` the member's region (ISO alpha-2).
    ``regions`` are the region codes that occur: SQL is generated for those only. Stages are plain
    nested selects so DuckDB evaluates each expression once per row.
    """
    rules = [r for r in (region_rules(code) for code in sorted(set(regions))) if r is not None]
    if not rules:
        return f"SELECT *, CAST(NULL AS VARCHAR) AS {out} FROM ({source})"
    cleaned = f"regexp_replace({raw}, {_quote(SEPARATORS)}, '', 'g')"
    rest = " ".join(
        f"WHEN {_quote(r.region)} THEN CASE WHEN starts_with(_ph_p, '+{r.calling_code}') "
        f"THEN substr(_ph_p, {len(r.calling_code) + 2}) WHEN NOT starts_with(_ph_p, '+') THEN _ph_p END"
        for r in rules
    )
    cand = " ".join(f"WHEN {_quote(r.region)} THEN {_candidate(r, '_ph_rest')}" for r in rules)
    e164 = " ".join(
        f"WHEN {_quote(r.region)} THEN CASE WHEN {_valid(r, '_ph_c')} THEN '+{r.calling_code}' || _ph_c END"
        for r in rules
    )
    stage1 = f"SELECT *, {cleaned} AS _ph_p FROM ({source})"
    stage2 = (
        f"SELECT *, CASE WHEN regexp_full_match(_ph_p, '\\+?[0-9]{{2,17}}') THEN CASE {region} {rest} END END "
        f"AS _ph_rest FROM ({stage1})"
    )
    stage3 = f"SELECT *, CASE {region} {cand} END AS _ph_c FROM ({stage2})"
    return f"SELECT * EXCLUDE (_ph_p, _ph_rest, _ph_c), CASE {region} {e164} END AS {out} FROM ({stage3})"


def resolve_slow_phones(pairs: pa.Table) -> pa.Table:
    """libphonenumber on distinct ``(raw, region)`` pairs -> adds ``e164`` and ``reason`` (one is NULL).

    ``raw`` is the trimmed value. Called only for the rows the fast path left undecided; values longer
    than MAX_PHONE_CHARS are rejected without parsing. Pure: no logging of values.
    """
    import phonenumbers

    e164: list[str | None] = []
    reasons: list[str | None] = []
    for raw, region in zip(pairs.column("raw").to_pylist(), pairs.column("region").to_pylist(), strict=True):
        number, reason = _parse(phonenumbers, raw, region)
        e164.append(number)
        reasons.append(reason)
    return pairs.append_column("e164", pa.array(e164, pa.string())).append_column(
        "reason", pa.array(reasons, pa.string())
    )


def _parse(phonenumbers: object, raw: str, region: str | None) -> tuple[str | None, str | None]:
    pn = phonenumbers
    if len(raw) > MAX_PHONE_CHARS:
        return None, PHONE_UNPARSEABLE
    try:
        number = pn.parse(raw, region)  # type: ignore[attr-defined]
    except pn.NumberParseException:  # type: ignore[attr-defined]
        return None, PHONE_UNPARSEABLE
    if not pn.is_valid_number(number):  # type: ignore[attr-defined]
        return None, PHONE_INVALID
    return pn.format_number(number, pn.PhoneNumberFormat.E164), None  # type: ignore[attr-defined]
