"""Overlap between behaviors: a matrix of shared members, with counts and Jaccard, from committed state in DuckDB.

Pure core (no Airflow, no vendor calls). Members are compared by member_key (every behavior keys members
by the same warehouse key). A behavior's members in a scope are the union of the committed states of its
destinations in that scope (ADR 0016): ``behavior`` (all its destinations: whatever it put anywhere) or one
destination type (``meta``, ``google_ads``, ``hubspot``, ``clevertap``: the audiences as that tool holds
them). Members of in-doubt rows (a batch whose send is in doubt) are left out.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from behavior_sync.config import DEFAULT_CONNECTIONS, Behavior
from behavior_sync.health import current_states
from behavior_sync.identity.engine import connect, register_parquet
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.keying import DOUBT_PREFIX

OVERLAP_LIMIT = 20  # behaviors in a matrix (the largest, when more are in scope)
SCOPE_BEHAVIOR = "behavior"
SCOPES = (SCOPE_BEHAVIOR, *DEFAULT_CONNECTIONS)  # "behavior" and every destination type


@dataclass(frozen=True)
class Overlap:
    """Shared members between behaviors in a scope: ``shared[i][j]`` members in both (``shared[i][i]``: size)."""

    scope: str
    behaviors: tuple[str, ...]
    shared: tuple[tuple[int, ...], ...]

    def jaccard(self) -> list[list[float | None]]:
        """|A and B| / |A or B| per pair (None when both are empty)."""
        sizes = [self.shared[i][i] for i in range(len(self.behaviors))]
        return [
            [(n / union if (union := sizes[i] + sizes[j] - n) else None) for j, n in enumerate(row)]
            for i, row in enumerate(self.shared)
        ]


def scope_destinations(behaviors: Iterable[Behavior], scope: str) -> dict[str, list[str]]:
    """The destination ids whose committed states make each behavior's members in ``scope`` (one of SCOPES).

    Raises ValueError for an unknown scope.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown overlap scope {scope!r}; expected one of {', '.join(SCOPES)}")
    chosen = {b.slug: [d.id for d in b.destinations if scope in (SCOPE_BEHAVIOR, d.type)] for b in behaviors}
    return {slug: ids for slug, ids in chosen.items() if ids}


def overlap(
    db: StateDatabase, destinations: Mapping[str, Collection[str]], scope: str, limit: int = OVERLAP_LIMIT
) -> Overlap:
    """Shared members between the behaviors of ``destinations`` (behavior -> its destination ids in ``scope``).

    Behaviors without any committed state are left out; of more than ``limit``, the ``limit`` largest (by
    committed members summed over their states) are compared. Results are cached per set of state files
    (a commit writes new files, so a cached matrix is never stale).
    """
    sizes: Counter[str] = Counter()
    files: dict[str, list[str]] = defaultdict(list)
    for (slug, destination_id), state in current_states(db, destinations).items():
        if destination_id in destinations[slug]:
            sizes[slug] += state.members
            files[slug].append(state.members_uri or state.uri)
    chosen = sorted(sorted(files, key=lambda slug: (-sizes[slug], slug))[:limit])
    return Overlap(scope, tuple(chosen), _shared_members(tuple(tuple(sorted(files[slug])) for slug in chosen)))


@functools.lru_cache(maxsize=32)
def _shared_members(files: tuple[tuple[str, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """The shared-member matrix of behaviors whose members are the union of the member keys in their ``files``."""
    if not files:
        return ()
    with connect() as con:
        scans = []
        for i, uris in enumerate(files):
            for j, uri in enumerate(uris):
                register_parquet(con, f"s{i}_{j}", uri)
                scans.append(f"SELECT {i} AS b, member_key FROM s{i}_{j}")
        con.execute(
            f"CREATE TEMP TABLE m AS SELECT DISTINCT b, member_key FROM ({' UNION ALL '.join(scans)}) "
            "WHERE NOT starts_with(member_key, $doubt)",
            {"doubt": DOUBT_PREFIX},
        )
        pairs = con.execute(
            "SELECT x.b, y.b, count(*) FROM m AS x JOIN m AS y USING (member_key) WHERE x.b <= y.b GROUP BY ALL"
        ).fetchall()
    matrix = [[0] * len(files) for _ in files]
    for i, j, n in pairs:
        matrix[i][j] = matrix[j][i] = int(n)
    return tuple(tuple(row) for row in matrix)
