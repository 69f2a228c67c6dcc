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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Diff:
    """How a plan diffs: ``full_resync`` sends every prepared row again (as a ``replace`` when the destination
    supports one); ``fresh``: no committed row is affected, so every prepared row is new and none is gone."""

    full_resync: bool
    replace: bool
    fresh: bool = False


def plan_dispositions(con: duckdb.DuckDBPyConnection, keying: Keying, key_types: frozenset[str], diff: Diff) -> None:
    """Creates tables (or views) ``adds`` and ``removes`` (rows to send), ``settle`` (SETTLE_SCHEMA) and
    ``readded`` (the members re-added because a removal takes them; ROW only) from ``new_rows`` /
    ``gone_rows`` (the member-level diff) and the plan's inputs."""
    con.execute(f"CREATE TEMP TABLE settle ({', '.join(f'{f.name} VARCHAR' for f in SETTLE_SCHEMA)})")
    if keying == Keying.ROW and not diff.fresh:
        _row_dispositions(con, sql_list(key_types), diff.full_resync, diff.replace)
        return
    con.execute("CREATE TEMP TABLE readded (member_key VARCHAR)")
    if keying == Keying.VALUE:
        _value_dispositions(con, sql_list(key_types), diff.full_resync, diff.replace)
        return
    # MEMBER, or ROW with nothing committed affected: no removal can take anyone along, all prepared rows are new
    if diff.full_resync or diff.fresh:
        con.execute("CREATE TEMP VIEW adds AS FROM prepared")
    else:
        con.execute("CREATE TEMP TABLE adds AS FROM new_rows")
    con.execute(f"CREATE TEMP TABLE removes AS SELECT * FROM gone_rows {'LIMIT 0' if diff.replace else ''}")


def _value_dispositions(con: duckdb.DuckDBPyConnection, keys: str, full_resync: bool, replace: bool) -> None:
    """VALUE keying: sends each key value once, removes it only when no current member holds it."""
    present = f"SELECT id_type, value FROM committed WHERE NOT starts_with(member_key, '{DOUBT_PREFIX}')"
    if full_resync:  # everything is sent again: nothing counts as already there
        present = "SELECT NULL::VARCHAR AS id_type, NULL::VARCHAR AS value LIMIT 0"
    _dispose(con, "prepared" if full_resync else "new_rows", present, keys, (ADOPT, ENTER_WITH), "adds")
    if replace:
        con.execute("CREATE TEMP TABLE removes AS SELECT * FROM gone_rows LIMIT 0")
        return
    con.execute(
        f"CREATE TEMP VIEW desired_keys AS SELECT id_type, value FROM prepared WHERE id_type IN {keys} "
        "UNION ALL SELECT id_type, value FROM committed SEMI JOIN (SELECT member_key FROM current WHERE NOT changed) "
        f"USING (member_key) WHERE id_type IN {keys}"
    )
    _dispose(con, "gone_rows", "desired_keys", keys, (RELEASE, LEAVE_WITH), "removes")


def _dispose(
    con: duckdb.DuckDBPyConnection, rows: str, held: str, keys: str, actions: tuple[str, str], sent: str
) -> None:
    """Settle rows for ``rows`` and table ``sent`` (the rest, to send). A key row whose value is in ``held``
    settles with ``actions[0]`` (no send needed); of a value several members' key rows carry, the smallest
    member key's row is sent and the others follow it (``actions[1]``). A member's other rows (attributes)
    share the fate of its first such key row; a member without one is sent whole."""
    unsent, follow = actions
    con.execute(
        f"CREATE TEMP TABLE {sent}_keys AS SELECT member_key, id_type, value FROM {rows} WHERE id_type IN {keys}"
    )
    con.execute(
        f"CREATE TEMP TABLE {sent}_special AS SELECT k.*, '{unsent}' AS action FROM {sent}_keys AS k "
        f"SEMI JOIN ({held}) AS h USING (id_type, value)"
    )
    con.execute(
        f"INSERT INTO {sent}_special SELECT k.*, '{follow}' FROM {sent}_keys AS k JOIN (SELECT id_type, value, "
        f"min(member_key) AS rep FROM {sent}_keys ANTI JOIN {sent}_special USING (id_type, value) "
        "GROUP BY id_type, value HAVING count(*) > 1) AS s USING (id_type, value) WHERE k.member_key <> s.rep"
    )
    con.execute(f"INSERT INTO settle SELECT member_key, id_type, value, action, id_type, value FROM {sent}_special")
    con.execute(
        f"INSERT INTO settle SELECT r.member_key, r.id_type, r.value, m.action, m.id_type, m.value FROM {rows} AS r "
        f"JOIN (SELECT DISTINCT ON (member_key) * FROM {sent}_special ORDER BY member_key, id_type, value) AS m "
        f"USING (member_key) WHERE r.id_type NOT IN {keys}"
    )
    con.execute(
        f"CREATE TEMP TABLE {sent} AS SELECT * FROM {rows} ANTI JOIN (SELECT member_key, id_type, value FROM settle "
        f"WHERE action IN ('{unsent}', '{follow}')) USING (member_key, id_type, value)"
    )


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
