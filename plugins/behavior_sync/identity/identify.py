"""One value through the real pipeline: what the ``identify`` CLI prints for people debugging match rates.

The value runs through exactly the code a behavior run uses (``checks.build_members`` and the
destination's rules in DuckDB), as a one-member snapshot, so what this says is what a run sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from behavior_sync.identity.checks import build_members
from behavior_sync.identity.engine import connect
from behavior_sync.identity.rules import Rule, rules_for, value_sql
from behavior_sync.identity.spec import ALL_FIELDS, DestinationSpec, IdentitySpec

# CLI names of destinations -> destination types.
DESTINATIONS = {"meta": "meta", "google": "google_ads", "hubspot": "hubspot", "clevertap": "clevertap"}
CLI_FIELDS = {name: name for name in ALL_FIELDS} | {"dob": "date_of_birth"}
# Settings that switch every identifier of a rule set on (Google: every upload key).
_ALL_ON = {"google_ads": {"upload_keys": ["contact_info", "crm_id", "mobile_id"]}}


@dataclass(frozen=True)
class Sent:
    """One identifier a destination receives from the value: its wire key, normalized and sent forms."""

    wire_key: str
    normalized: str | None
    sent: str | None
    hashed: bool


@dataclass(frozen=True)
class Verdict:
    """``reason`` is None when the value is valid; ``sent`` is empty when the destination does not use it."""

    field: str
    destination: str
    canonical: str | None
    reason: str | None
    sent: tuple[Sent, ...]

    @property
    def valid(self) -> bool:
        """True when the value passed validation."""
        return self.reason is None

    def lines(self) -> list[str]:
        """What the CLI prints: the verdict, then per identifier sent its normalized and sent value."""
        out = [f"verdict: {'valid' if self.valid else self.reason}"]
        if not self.valid:
            return out
        if not self.sent:
            unused = f"sent: nothing ({self.destination} does not use {self.field})"
            return [*out, f"normalized: {self.canonical}", unused]
        several = len(self.sent) > 1
        for item in self.sent:
            label = f" [{item.wire_key}]" if several else ""
            out += [f"normalized{label}: {item.normalized}", f"sent{label}: {item.sent}"]
        return out


def identify(
    destination: str, field: str, value: str, country: str | None = None, default_region: str = "US"
) -> Verdict:
    """Validates ``value`` as ``field`` (CLI names) and applies ``destination``'s rules to it.

    ``country`` (a code or name) gives the member's country (phone region, postal code shape, address);
    else ``default_region`` is used for phones. Raises KeyError for an unknown destination or field.
    """
    dest_type, name = DESTINATIONS[destination], CLI_FIELDS[field]
    columns = {name: [value], "member_key": ["identify"]}
    identifiers = {name: name}
    if country is not None and name != "country":
        columns["country"], identifiers["country"] = [country], "country"
    spec = IdentitySpec("member_key", identifiers, (DestinationSpec("d", dest_type),), default_region=default_region)
    rules = _rules_about(dest_type, name)
    selects = "".join(f", {value_sql(rule, frozenset(), False)}, {value_sql(rule, frozenset())}" for rule in rules)
    with connect() as con:
        con.register("one_member", pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}))
        build_members(con, "SELECT * FROM one_member", spec)
        row = con.execute(f"SELECT CAST({name} AS VARCHAR), {name}_reason{selects} FROM members").fetchall()[0]
    canonical, reason, *values = row
    sent = tuple(Sent(rule.wire_key, values[2 * i], values[2 * i + 1], rule.hashed) for i, rule in enumerate(rules))
    return Verdict(field, destination, canonical, reason, sent)


def _rules_about(destination_type: str, name: str) -> list[Rule]:
    """Every rule (composite parts included) of a destination's full rule set that is about field ``name``."""
    everything = frozenset({*ALL_FIELDS, "member_key"})
    rules = rules_for(destination_type, _ALL_ON.get(destination_type, {}), everything)
    return [part for rule in rules for part in rule.parts or (rule,) if part.sources[0] == name]
