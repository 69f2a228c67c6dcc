"""How a destination keys what it stores, and what that means for a plan: which rows are sent, which follow.

The engine's state is per member: (member_key, id_type, value) rows that are in the destination because
we put them there. Vendors do not store members, though (docs/adr/0010-what-a-destination-keys-on.md):

* ``Keying.MEMBER``: each member's rows stand alone (the destination keys on the member key). Today's
  row diff: new rows are added, gone rows removed.
* ``Keying.VALUE``: one object per value of a key type (a HubSpot contact per e-mail, a CleverTap profile
  per identity); a member's other rows are attributes of its key value's object. A key value is removed
  only when no current member holds it, and sent once however many members hold it: one member (the
  smallest key) carries it, the others *follow* it into (``enter_with``) or out of (``leave_with``) the
  state when that send is accepted. A value already in the destination through another member is
  *adopted* without a send; a leaver's value that another member still holds is *released* from the
  state without a send.
* ``Keying.ROW``: one row per person made of all its identifiers; a removal takes every stored row that
  shares a value of a key type with it (Meta's multi-key rows, Google Customer Match members). A changed
  member is removed whole and added whole; every current member whose committed row shares a key value
  with a removed row is *re-added* after the removes.

The plan writes these dispositions as ``settle`` rows next to the batches; the commit applies them by what
was acknowledged (``execute.commit_plan``). Everything here is SQL over the plan's DuckDB tables
``prepared``, ``committed``, ``committed_affected`` and ``current`` (see ``plan.compute_plan``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import duckdb
import pyarrow as pa

# What a settle row does at commit (``link``: the key value or group it follows).
ADOPT = "adopt"  # enters the state: its key value is in the destination through another member
RELEASE = "release"  # leaves the state: another current member still holds its key value
ENTER_WITH = "enter_with"  # enters when an accepted add carried its key value
LEAVE_WITH = "leave_with"  # leaves when an accepted remove carried its key value
MEMBER_LEAVE_WITH = "member_leave"  # the member's rows leave when an accepted remove carried the linked key value
SETTLE_SCHEMA = pa.schema(
    [
        ("member_key", pa.string()),
        ("id_type", pa.string()),
        ("value", pa.string()),
        ("action", pa.string()),
        ("link_type", pa.string()),
        ("link_value", pa.string()),
    ]
)
# The member key of rows whose send is in doubt (a batch left ``sending``): never a current member, so the next
# plan removes its values (unless a current member holds them) and sends current members' rows again.
DOUBT_PREFIX = "\x00in-doubt\x00"


class Keying(StrEnum):
    """How a destination stores what we send (module docstring)."""

    MEMBER = "member"
    VALUE = "value"
    ROW = "row"


def sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of ``values`` (identifier type names: letters, digits and ``_`` only)."""
    names = sorted(values)
    if not all(name.replace("_", "").isalnum() for name in names):
        raise ValueError(f"not identifier type names: {names}")
    return "(" + ", ".join(f"'{name}'" for name in names) + ")" if names else "(NULL)"


def plan_dispositions(
    con: duckdb.DuckDBPyConnection, keying: Keying, key_types: frozenset[str], full_resync: bool, replace: bool
) -> None:
    """Creates tables ``adds`` and ``removes`` (rows to send), ``settle`` (SETTLE_SCHEMA) and ``readded`` (the
    members re-added because a removal takes them; ROW only) from ``new_rows`` / ``gone_rows`` (the
    member-level diff) and the plan's inputs."""
    con.execute(
        "CREATE TEMP TABLE settle (member_key VARCHAR, id_type VARCHAR, value VARCHAR, action VARCHAR, "
        "link_type VARCHAR, link_value VARCHAR)"
    )
    if keying == Keying.ROW:
        _row_dispositions(con, sql_list(key_types), full_resync, replace)
        return
    con.execute("CREATE TEMP TABLE readded (member_key VARCHAR)")
    if keying == Keying.VALUE:
        _value_dispositions(con, sql_list(key_types), full_resync, replace)
    else:
        con.execute(f"CREATE TEMP TABLE adds AS SELECT * FROM {'prepared' if full_resync else 'new_rows'}")
        con.execute(f"CREATE TEMP TABLE removes AS SELECT * FROM gone_rows {'LIMIT 0' if replace else ''}")


def _with_entity(con: duckdb.DuckDBPyConnection, name: str, rows: str, side: str, keys: str) -> None:
    """Table ``name``: ``rows`` with their entity (ent_type, ent_value): the row itself for a key row, else the
    member's key row on ``side`` (prepared or committed_affected), else the row itself."""
    con.execute(
        f"CREATE TEMP TABLE {name}_keys AS SELECT DISTINCT ON (member_key) member_key, id_type AS kt, value AS kv "
        f"FROM {side} SEMI JOIN (SELECT member_key FROM {rows} WHERE id_type NOT IN {keys}) USING (member_key) "
        f"WHERE id_type IN {keys} ORDER BY member_key, id_type, value"
    )
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT r.member_key, r.id_type, r.value, "
        f"CASE WHEN r.id_type IN {keys} OR k.kt IS NULL THEN r.id_type ELSE k.kt END AS ent_type, "
        f"CASE WHEN r.id_type IN {keys} OR k.kt IS NULL THEN r.value ELSE k.kv END AS ent_value "
        f"FROM {rows} AS r LEFT JOIN {name}_keys AS k USING (member_key)"
    )


def _split(con: duckdb.DuckDBPyConnection, rows: str, held: str, unsent: str, follow: str, sent: str) -> None:
    """Rows of ``rows`` (with entities) whose entity is in table ``held`` become settle rows ``unsent``; of
    the others, the smallest member key per entity is sent (table ``sent``) and the rest ``follow`` it."""
    con.execute(
        f"INSERT INTO settle SELECT member_key, id_type, value, '{unsent}', ent_type, ent_value FROM {rows} AS r "
        f"SEMI JOIN {held} AS h ON r.ent_type = h.ent_type AND r.ent_value = h.ent_value"
    )
    con.execute(
        f"CREATE TEMP TABLE {rows}_open AS SELECT r.*, min(member_key) OVER (PARTITION BY ent_type, ent_value) AS rep "
        f"FROM {rows} AS r ANTI JOIN {held} AS h ON r.ent_type = h.ent_type AND r.ent_value = h.ent_value"
    )
    con.execute(
        f"INSERT INTO settle SELECT member_key, id_type, value, '{follow}', ent_type, ent_value FROM {rows}_open "
        "WHERE member_key <> rep"
    )
    con.execute(
        f"CREATE TEMP TABLE {sent} AS SELECT member_key, id_type, value FROM {rows}_open WHERE member_key = rep"
    )


def _value_dispositions(con: duckdb.DuckDBPyConnection, keys: str, full_resync: bool, replace: bool) -> None:
    """VALUE keying: sends each key value once, removes it only when no current member holds it."""
    _with_entity(con, "new_e", "prepared" if full_resync else "new_rows", "prepared", keys)
    if full_resync:  # everything is sent again: nothing counts as already there
        con.execute("CREATE TEMP TABLE present AS SELECT NULL::VARCHAR AS ent_type, NULL::VARCHAR AS ent_value LIMIT 0")
    else:
        con.execute(
            "CREATE TEMP TABLE present AS SELECT DISTINCT ent_type, ent_value FROM new_e AS n SEMI JOIN committed "
            "AS c ON c.id_type = n.ent_type AND c.value = n.ent_value AND NOT starts_with(c.member_key, "
            f"'{DOUBT_PREFIX}')"
        )
    _split(con, "new_e", "present", ADOPT, ENTER_WITH, "adds")
    if replace:
        con.execute("CREATE TEMP TABLE removes AS SELECT * FROM gone_rows LIMIT 0")
        return
    _with_entity(con, "gone_e", "gone_rows", "committed_affected", keys)
    con.execute(
        f"CREATE TEMP VIEW desired_keys AS SELECT id_type, value FROM prepared WHERE id_type IN {keys} "
        "UNION ALL SELECT id_type, value FROM committed SEMI JOIN (SELECT member_key FROM current WHERE NOT changed) "
        f"USING (member_key) WHERE id_type IN {keys}"
    )
    con.execute(
        "CREATE TEMP TABLE kept AS SELECT DISTINCT ent_type, ent_value FROM gone_e AS g "
        "SEMI JOIN desired_keys AS d ON d.id_type = g.ent_type AND d.value = g.ent_value"
    )
    _split(con, "gone_e", "kept", RELEASE, LEAVE_WITH, "removes")


def _row_dispositions(con: duckdb.DuckDBPyConnection, keys: str, full_resync: bool, replace: bool) -> None:
    """ROW keying: touched members removed whole then added whole; the current members a removal takes with
    it (their committed row shares a key value with a removed row) are re-added after the removes."""
    con.execute("CREATE TEMP TABLE touched AS SELECT DISTINCT member_key FROM (FROM new_rows UNION ALL FROM gone_rows)")
    removes = "committed_affected SEMI JOIN touched USING (member_key)"
    con.execute(f"CREATE TEMP TABLE removes AS SELECT * FROM {removes} {'LIMIT 0' if replace else ''}")
    con.execute(f"CREATE TEMP TABLE seeds AS SELECT DISTINCT id_type, value FROM removes WHERE id_type IN {keys}")
    con.execute(
        "CREATE TEMP TABLE taken AS SELECT DISTINCT c.member_key, c.id_type, c.value FROM committed AS c "
        "SEMI JOIN seeds AS s ON c.id_type = s.id_type AND c.value = s.value "
        "SEMI JOIN current USING (member_key) ANTI JOIN touched USING (member_key)"
    )
    con.execute(f"INSERT INTO settle SELECT member_key, NULL, NULL, '{MEMBER_LEAVE_WITH}', id_type, value FROM taken")
    con.execute("CREATE TEMP TABLE readded AS SELECT DISTINCT member_key FROM taken")
    if full_resync:
        con.execute("CREATE TEMP TABLE adds AS SELECT * FROM prepared")
        return
    con.execute(
        "CREATE TEMP TABLE adds AS SELECT * FROM prepared SEMI JOIN touched USING (member_key) "
        "UNION ALL SELECT * FROM committed SEMI JOIN readded USING (member_key)"
    )
