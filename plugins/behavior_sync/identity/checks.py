"""Per-row identifier checks in DuckDB: snapshot rows -> canonical identifiers + reason codes, deduplicated.

``build_members(con, source, spec)`` leaves three tables in the DuckDB connection:

* ``checked``  one row per snapshot row: canonical value and reason code per mapped field
* ``members``  one row per member key (the best row of each key: most valid identifiers, then a
               content hash for a stable choice), NULL keys left out
* ``dropped``  the rows not kept: ``(member_key, reason)`` with duplicate_member_key / member_key_missing

Only the rows the fast paths cannot decide reach Python (``phones.resolve_slow_phones``,
``emails.resolve_slow_emails``), once per distinct value. Nothing here logs or raises with a value.

A phone column of a numeric type (DOUBLE, FLOAT, DECIMAL: the snapshot keeps the warehouse's types) is read
as its whole value's digits (``fields.exact_number_sql``), never as its decimal text (``301234567.0`` would
parse as another valid number); a value that is not whole or not exactly stored is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from behavior_sync.identity import emails, fields, phones
from behavior_sync.identity import reasons as r
from behavior_sync.identity.countries import country_key_sql, country_table, us_state_table
from behavior_sync.identity.spec import ADDRESS_FIELDS, STRONG_FIELDS, IdentitySpec

CONSENT_VALUES = {
    "GRANTED": ("true", "t", "yes", "y", "1", "granted"),
    "DENIED": ("false", "f", "no", "n", "0", "denied"),
}


def _q(name: str) -> str:
    """A quoted SQL identifier (snapshot columns come from user SQL)."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_columns(spec: IdentitySpec, types: Mapping[str, str]) -> list[str]:
    cols = [f"{fields.clean_sql(_q(spec.member_key))} AS member_key"]
    cols += [
        f"{fields.clean_sql(_q(column))} AS raw_{name}" for name, column in spec.identifiers.items() if name != "phone"
    ]
    if "phone" in spec.identifiers:
        column = spec.identifiers["phone"]
        cols += _raw_phone_columns(_q(column), types.get(column, "VARCHAR"))
    for purpose, column in spec.consent.items():
        value = f"lower({fields.clean_sql(_q(column))})"
        cases = " ".join(
            f"WHEN {value} IN ({', '.join(map(_lit, vals))}) THEN '{k}'" for k, vals in CONSENT_VALUES.items()
        )
        cols.append(f"CASE {cases} END AS consent_{purpose}")
    return cols


def _raw_phone_columns(column: str, type_name: str) -> list[str]:
    """``raw_phone`` (text) and ``phone_inexact`` (a numeric value whose digits are unknown: refused)."""
    digits = fields.exact_number_sql(column, type_name)
    if digits is None:
        return [f"{fields.clean_sql(column)} AS raw_phone", "false AS phone_inexact"]
    return [
        f"coalesce({digits}, CAST({column} AS VARCHAR)) AS raw_phone",
        f"({column} IS NOT NULL AND {digits} IS NULL) AS phone_inexact",
    ]


def _consent_columns(spec: IdentitySpec) -> list[str]:
    return [f"consent_{purpose}" for purpose in spec.consent]


def _canonical_columns(spec: IdentitySpec) -> list[tuple[str, str, str]]:
    """(field, canonical SQL, reason code) of every mapped field but e-mail, phone and country."""
    out = []
    for name in spec.fields():
        raw = f"raw_{name}"
        if name in ("email", "phone", "country"):
            continue
        if name in spec.prehashed:
            out.append((name, fields.prehashed_sql(raw), r.hash_invalid(name)))
        elif name == "postal_code":
            out.append((name, fields.postal_sql(raw, "country"), r.POSTAL_CODE_INVALID))
        elif name == "state":
            out.append((name, fields.state_sql(raw, "country", "us_state"), r.STATE_INVALID))
        else:
            builder, reason = fields.PLAIN_FIELDS[name]
            out.append((name, builder(raw), reason))
    return out


def _fields_stage(spec: IdentitySpec, source: str) -> str:
    """Canonical values first, then reasons over them (each expression evaluated once per row)."""
    columns = _canonical_columns(spec)
    canonical = "".join(f", {sql} AS {name}" for name, sql, _ in columns)
    reasons = "".join(
        f", CASE WHEN raw_{name} IS NOT NULL AND {name} IS NULL THEN '{reason}' END AS {name}_reason"
        for name, _, reason in columns
    )
    return f"SELECT *{reasons} FROM (SELECT *{canonical} FROM ({source}))"


def _country_stage(spec: IdentitySpec, source: str, types: Mapping[str, str]) -> str:
    base = f"SELECT {', '.join(_raw_columns(spec, types))} FROM ({source})"
    if "country" not in spec.identifiers:
        return (
            f"SELECT *, CAST(NULL AS VARCHAR) AS country, CAST(NULL AS VARCHAR) AS country_reason, "
            f"{_lit(spec.default_region)} AS region FROM ({base})"
        )
    return (
        f"SELECT b.*, c.alpha2 AS country, "
        f"CASE WHEN b.raw_country IS NOT NULL AND c.alpha2 IS NULL THEN '{r.COUNTRY_INVALID}' END AS country_reason, "
        f"coalesce(c.alpha2, {_lit(spec.default_region)}) AS region "
        f"FROM ({base}) AS b LEFT JOIN bsync_countries AS c ON c.key = {country_key_sql('b.raw_country')}"
    )


def _state_stage(spec: IdentitySpec, source: str) -> str:
    """Adds ``us_state``: the 2-letter code of a US member's state name or code (NULL otherwise)."""
    if "state" not in spec.identifiers or "state" in spec.prehashed:
        return source
    key = f"CASE WHEN b.region = 'US' THEN {country_key_sql('b.raw_state')} END"
    return f"SELECT b.*, s.code AS us_state FROM ({source}) AS b LEFT JOIN bsync_us_states AS s ON s.key = {key}"


def _email_stage(spec: IdentitySpec, source: str) -> str:
    if "email" not in spec.identifiers:
        return source
    if "email" in spec.prehashed:
        fast = fields.prehashed_sql("raw_email")
        return f"SELECT *, {fast} AS email_fast, CAST(NULL AS VARCHAR) AS email_status, NULL AS _e FROM ({source})"
    status = emails.fast_status_sql("_e")
    with_status = f"SELECT *, {status} AS email_status FROM (SELECT *, lower(raw_email) AS _e FROM ({source}))"
    return f"SELECT *, CASE WHEN email_status = 'valid' THEN _e END AS email_fast FROM ({with_status})"


def _phone_stage(con: duckdb.DuckDBPyConnection, spec: IdentitySpec, source: str) -> str:
    if "phone" not in spec.identifiers:
        return source
    if "phone" in spec.prehashed:
        return f"SELECT *, {fields.prehashed_sql('raw_phone')} AS phone_fast FROM ({source})"
    regions = [row[0] for row in con.execute(f"SELECT DISTINCT region FROM ({source})").fetchall()]
    raw = "CASE WHEN NOT phone_inexact THEN raw_phone END"
    return phones.fast_e164_query(source, raw, "region", regions, "phone_fast")


def check_rows(con: duckdb.DuckDBPyConnection, source: str, spec: IdentitySpec) -> None:
    """Creates table ``checked`` from the rows of the SQL ``source`` (the snapshot)."""
    con.register("bsync_countries", country_table())
    con.register("bsync_us_states", us_state_table())
    stage = _state_stage(spec, _country_stage(spec, source, _column_types(con, source)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE bsync_stage AS {stage}")
    stage = _fields_stage(spec, _email_stage(spec, "SELECT * FROM bsync_stage"))
    stage = _phone_stage(con, spec, stage)
    con.execute(f"CREATE OR REPLACE TEMP TABLE bsync_fast AS {stage}")
    con.execute("DROP TABLE bsync_stage")
    _resolve_slow_paths(con, spec)


def _email_slow_path(con: duckdb.DuckDBPyConnection, spec: IdentitySpec) -> tuple[str, str]:
    """(join, select) giving ``email`` and ``email_reason``; email-validator decides (and normalizes) the
    undecided addresses. An address whose local part is only a ``+tag`` is refused on either path."""
    if "email" in spec.prehashed:
        reason = f"CASE WHEN f.raw_email IS NOT NULL AND f.email_fast IS NULL THEN '{r.hash_invalid('email')}' END"
        return "", f"f.email_fast AS email, {reason} AS email_reason"
    undecided = "SELECT DISTINCT _e AS raw FROM bsync_fast WHERE _e IS NOT NULL AND email_status IS NULL"
    con.register("bsync_slow_emails", emails.resolve_slow_emails(con.sql(undecided).to_arrow_table()))
    valid = "coalesce(f.email_fast, se.email)"
    tag_only = f"starts_with({valid}, '+')"
    reason = (
        f"CASE WHEN f.email_status = 'invalid' OR se.reason IS NOT NULL THEN '{r.EMAIL_INVALID}' "
        f"WHEN {tag_only} THEN '{r.EMAIL_LOCAL_PART_EMPTY}' END"
    )
    join = "LEFT JOIN bsync_slow_emails AS se ON se.raw = f._e AND f.email_status IS NULL"
    return join, f"CASE WHEN NOT {tag_only} THEN {valid} END AS email, {reason} AS email_reason"


def _phone_slow_path(con: duckdb.DuckDBPyConnection, spec: IdentitySpec) -> tuple[str, str]:
    """(join, select) giving ``phone`` and ``phone_reason``; libphonenumber runs on the undecided numbers."""
    if "phone" in spec.prehashed:
        reason = f"CASE WHEN f.raw_phone IS NOT NULL AND f.phone_fast IS NULL THEN '{r.hash_invalid('phone')}' END"
        return "", f"f.phone_fast AS phone, {reason} AS phone_reason"
    undecided = (
        "SELECT DISTINCT raw_phone AS raw, region FROM bsync_fast "
        "WHERE raw_phone IS NOT NULL AND phone_fast IS NULL AND NOT phone_inexact"
    )
    con.register("bsync_slow_phones", phones.resolve_slow_phones(con.sql(undecided).to_arrow_table()))
    join = "LEFT JOIN bsync_slow_phones AS sp ON sp.raw = f.raw_phone AND sp.region = f.region AND f.phone_fast IS NULL"
    reason = f"CASE WHEN f.phone_inexact THEN '{r.PHONE_NUMERIC_INEXACT}' WHEN f.phone_fast IS NULL THEN sp.reason END"
    return join, f"coalesce(f.phone_fast, sp.e164) AS phone, {reason} AS phone_reason"


def _resolve_slow_paths(con: duckdb.DuckDBPyConnection, spec: IdentitySpec) -> None:
    """Creates ``checked`` from ``bsync_fast``: the fast paths' results completed by the slow paths."""
    parts = []
    if "email" in spec.identifiers:
        parts.append(("email_fast, email_status, _e", *_email_slow_path(con, spec)))
    if "phone" in spec.identifiers:
        parts.append(("phone_fast, phone_inexact", *_phone_slow_path(con, spec)))
    exclude = f" EXCLUDE ({', '.join(p[0] for p in parts)})" if parts else ""
    selects = "".join(f", {p[2]}" for p in parts)
    joins = " ".join(p[1] for p in parts)
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS SELECT f.*{exclude}{selects} FROM bsync_fast AS f {joins}")
    con.execute("DROP TABLE bsync_fast")


def _column_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Column name -> DuckDB type name (``DOUBLE``, ``DECIMAL(12,2)``, ``VARCHAR``...) of the SQL ``source``."""
    relation = con.sql(f"SELECT * FROM ({source}) LIMIT 0")
    return {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}


def valid_count_sql(spec: IdentitySpec) -> str:
    """SQL: how many mapped identifiers of a row are valid (the dedupe tie-break)."""
    return " + ".join(f"({name} IS NOT NULL)::INTEGER" for name in spec.fields()) or "0"


def identifiable_sql(spec: IdentitySpec) -> str:
    """SQL: the member has a strong identifier or a full postal address (quality gate)."""
    strong = [f"{name} IS NOT NULL" for name in STRONG_FIELDS if name in spec.identifiers]
    if all(name in spec.identifiers for name in ADDRESS_FIELDS):
        strong.append("(" + " AND ".join(f"{name} IS NOT NULL" for name in ADDRESS_FIELDS) + ")")
    return "(" + (" OR ".join(strong) or "false") + ")"


def build_members(con: duckdb.DuckDBPyConnection, source: str, spec: IdentitySpec) -> None:
    """Checks the rows of ``source`` and keeps one row per member key (tables checked, members, dropped).

    Only keys that occur more than once are ranked (most valid identifiers first, then a content hash
    for a choice that does not depend on row order); the other rows are kept as they are.
    """
    check_rows(con, source, spec)
    canon = ", ".join(f"coalesce(CAST({n} AS VARCHAR), '')" for n in spec.fields()) or "''"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bsync_repeated AS SELECT member_key FROM checked "
        "WHERE member_key IS NOT NULL GROUP BY member_key HAVING count(*) > 1"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bsync_ranked AS SELECT *, row_number() OVER (PARTITION BY member_key "
        f"ORDER BY {valid_count_sql(spec)} DESC, md5(concat_ws('|', {canon}))) AS _rank "
        "FROM checked SEMI JOIN bsync_repeated USING (member_key)"
    )
    columns = ", ".join(_member_columns(spec))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE members AS SELECT {columns} FROM checked "
        "ANTI JOIN bsync_repeated USING (member_key) WHERE member_key IS NOT NULL "
        f"UNION ALL SELECT {columns} FROM bsync_ranked WHERE _rank = 1"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dropped AS SELECT member_key, '{r.DUPLICATE_MEMBER_KEY}' AS reason "
        f"FROM bsync_ranked WHERE _rank > 1 UNION ALL SELECT member_key, '{r.MEMBER_KEY_MISSING}' FROM checked "
        "WHERE member_key IS NULL"
    )
    con.execute("DROP TABLE bsync_ranked; DROP TABLE bsync_repeated")


def _member_columns(spec: IdentitySpec) -> list[str]:
    cols = ["member_key"]
    for name in spec.fields():
        cols += [name, f"{name}_reason"]
    return cols + _consent_columns(spec)
