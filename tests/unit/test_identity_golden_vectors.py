"""Golden vectors: every rule set and field, through the same DuckDB code a behavior run uses.

Expectations live in tests/fixtures/identity/golden_vectors.json, taken from the vendors' documents
where they give examples and from worked cases where they do not. Hashes in the file are
hashlib's SHA-256 of the expected normalized form: independent of the code under test.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.identity.identify import CLI_FIELDS, DESTINATIONS, identify
from behavior_sync.identity.rules import RULE_SETS

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "identity" / "golden_vectors.json").read_text()
)["vectors"]


def _id(vector: dict[str, Any]) -> str:
    return f"{vector['destination']}-{vector['field']}-{vector['value'].strip()[:24]}"


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_golden_vector(vector: dict[str, Any]) -> None:
    verdict = identify(vector["destination"], vector["field"], vector["value"], vector.get("country"))
    assert (verdict.reason or "valid") == vector["verdict"]
    if verdict.valid:
        got = [{"normalized": s.normalized, "sent": s.sent} for s in verdict.sent]
        assert got == vector["sent"]


def test_vector_hashes_are_sha256_of_the_normalized_form_in_lowercase_hex() -> None:
    for vector in VECTORS:
        for item in vector.get("sent", []):
            if re.fullmatch(r"[0-9a-f]{64}", item["sent"]):
                assert item["sent"] == hashlib.sha256(item["normalized"].encode()).hexdigest()


def test_every_field_of_every_rule_set_has_a_golden_vector() -> None:
    covered = {(DESTINATIONS[v["destination"]], CLI_FIELDS[v["field"]]) for v in VECTORS}
    fields = {name: cli for cli, name in CLI_FIELDS.items()}
    for destination, rules in RULE_SETS.items():
        for rule in rules:
            for part in rule.parts or (rule,):
                assert (destination, part.sources[0]) in covered, (destination, fields[part.sources[0]])


def test_hashed_values_are_never_the_raw_input() -> None:
    for vector in VECTORS:
        for item in vector.get("sent", []):
            assert vector["value"].strip() != item["sent"] or not re.fullmatch(r"[0-9a-f]{64}", item["sent"])
