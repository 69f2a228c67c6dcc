"""Behavior files: load, validate (JSON Schema + cross-field rules) and model them.

A behavior file is ``include/behaviors/<slug>.yaml`` validated against
``include/schemas/behavior.schema.json``. Loading never raises for a bad file:
``load_behaviors`` returns the good behaviors and, separately, one
``BehaviorFileError`` per bad file naming the file, the field and the problem, so
one broken file never hides the others (ADR 0001, ADR 0012): whatever loading one file raises
(``SystemExit`` of a notifier module included) or however long it takes, it becomes that file's
problem. Which DAG id each file gets is decided by ``behavior_sync.file_slots``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from croniter import CroniterError, croniter

from behavior_sync.file_guard import BehaviorFileError as BehaviorFileError
from behavior_sync.file_guard import display_path as display_path
from behavior_sync.file_guard import load_files
from behavior_sync.file_slots import assign_slots, dag_id, name_problem, yaml_files
from behavior_sync.identity.rules import GOOGLE_RULES, GOOGLE_UPLOAD_KEYS, google_key_type
from behavior_sync.notifier_refs import NotifierError, resolve_notifier
from behavior_sync.paths import PROJECT_DIR, behaviors_dir
from behavior_sync.schema_validation import Problem, validate_with_defaults
from behavior_sync.yaml_loading import read_document

SCHEMA_FILE = "behavior.schema.json"
PREFIX = "behavior"
START_DATES = (dt.date(1970, 1, 1), dt.date(2100, 12, 31))
SCHEDULE_PRESETS: Mapping[str, str | None] = MappingProxyType({"daily": "@daily", "weekly": "@weekly", "manual": None})
DEFAULT_CONNECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "meta": "meta_default",
        "google_ads": "google_ads_default",
        "hubspot": "hubspot_default",
        "clevertap": "clevertap_default",
    }
)


@dataclass(frozen=True)
class Destination:
    """One destination of a behavior; ``settings`` holds the type-specific fields with defaults applied."""

    id: str
    type: str
    connection: str
    frequency: str
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class Behavior:
    """A validated behavior file (immutable)."""

    slug: str
    name: str
    description: str
    owner: str
    tags: tuple[str, ...]
    schedule: str | None
    start_date: dt.date
    catchup: bool
    retries: int
    query_path: Path
    warehouse_connection: str
    member_key: str
    identifiers: Mapping[str, str]
    prehashed: tuple[str, ...]
    default_region: str
    consent: Mapping[str, str]
    guardrails: Mapping[str, Any]
    quality: Mapping[str, Any]
    destinations: tuple[Destination, ...]
    source_file: Path = field(compare=False)
    webhooks: tuple[Mapping[str, Any], ...] = ()  # webhook entries with defaults applied (behavior_sync.webhooks)
    on_failure: tuple[Mapping[str, Any], ...] = ()  # notifications.on_failure entries (email or notifier)
    reconcile: Mapping[str, Any] = field(default_factory=dict)  # read-back: schedule, sample_size, count_tolerance

    @property
    def dag_id(self) -> str:
        """Airflow DAG id of this behavior."""
        return dag_id_for(self.slug)

    def required_columns(self) -> tuple[str, ...]:
        """Columns the query must return: member key, identifier and consent columns (sorted, unique)."""
        return tuple(sorted({self.member_key, *self.identifiers.values(), *self.consent.values()}))

    def read_query(self) -> str:
        """The behavior's SQL text (read at run time, not at DAG parse time)."""
        return self.query_path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class LoadedBehaviors:
    """Result of loading a folder: valid behaviors and per-file errors, both sorted by file name."""

    behaviors: tuple[Behavior, ...]
    errors: tuple[BehaviorFileError, ...]


def dag_id_for(slug: str) -> str:
    """``behavior__<slug>``: the DAG id of a behavior (also used for a broken file's placeholder DAG)."""
    return dag_id(PREFIX, slug)


def load_behaviors(folder: Path | None = None, only: Iterable[str] | None = None) -> LoadedBehaviors:
    """Load every ``*.yaml``/``*.yml`` in ``folder`` (default ``include/behaviors``), never raising for bad files.

    ``only``: restrict to these DAG ids without the ``behavior__`` prefix (a well-named file's slug), e.g.
    when a worker parses the files for one DAG. Each error carries its placeholder's DAG id.
    """
    wanted = None if only is None else {dag_id_for(name) for name in only}
    slots = assign_slots(yaml_files(folder or behaviors_dir()), PREFIX)
    behaviors, errors = load_files((s for s in slots if wanted is None or s.dag_id in wanted), load_behavior)
    return LoadedBehaviors(tuple(behaviors), tuple(errors))


def load_behavior(path: Path) -> Behavior:
    """Load and validate one behavior file. Raises ``BehaviorFileError`` naming the file and fields.

    May raise anything else on hostile input (e.g. a notifier module's ``SystemExit``): use ``load_slot``.
    """
    document, problems = read_document(path)
    if not problems and not isinstance(document, dict):
        problems.append(Problem("", "the file must contain a mapping of fields (got an empty or non-mapping document)"))
    if not problems:
        document, problems = validate_with_defaults(document, SCHEMA_FILE)
    if not problems:
        problems = _cross_field_problems(path, document or {})
    if problems:
        raise BehaviorFileError(path, problems)
    assert isinstance(document, dict)  # guaranteed by the checks above
    return _build(path, document)


def _cross_field_problems(path: Path, doc: Mapping[str, Any]) -> list[Problem]:
    problems = _slug_problems(path, doc) + _schedule_problems(doc) + _query_problems(doc)
    problems += _identifier_problems(doc) + _destination_problems(doc) + _webhook_problems(doc)
    problems += _notifier_problems(doc)
    return sorted(problems)


def _slug_problems(path: Path, doc: Mapping[str, Any]) -> list[Problem]:
    if (problem := name_problem(path)) is not None:
        return [Problem("slug", problem)]
    if "slug" in doc and doc["slug"] != path.stem:
        return [Problem("slug", f"{doc['slug']!r} must equal the file name {path.stem!r} (or be left out)")]
    return []


def _schedule_problems(doc: Mapping[str, Any]) -> list[Problem]:
    schedule, problems = doc["schedule"], []
    if schedule not in SCHEDULE_PRESETS and (problem := cron_problem(schedule)) is not None:
        problems.append(Problem("schedule", f"{schedule!r} is not daily, weekly, manual or {problem}"))
    start = dt.date.fromisoformat(doc["start_date"])
    if not START_DATES[0] <= start <= START_DATES[1]:
        low, high = (d.isoformat() for d in START_DATES)
        problems.append(Problem("start_date", f"{start.isoformat()} is not between {low} and {high}"))
    return problems


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` cannot be a 5-field cron schedule (None when it can): invalid, or it never fires.

    Airflow builds a DAG whose cron never fires (``0 0 30 2 *``), then fails computing its runs.
    """
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return "a valid 5-field cron expression"
    try:
        croniter(expression, dt.datetime(2026, 1, 1)).get_next(dt.datetime)
    except CroniterError:
        return "a cron expression that fires (this one matches no date, e.g. 30 February)"
    return None


def _query_problems(doc: Mapping[str, Any]) -> list[Problem]:
    try:
        query = (PROJECT_DIR / doc["query"]).resolve()
        exists = query.is_file()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL character, a name too long, a symlink loop
        return [Problem("query", f"not a usable path ({type(exc).__name__}): {doc['query']!r}")]
    if not query.is_relative_to(PROJECT_DIR):
        return [Problem("query", f"{doc['query']!r} points outside the project folder")]
    if not exists:
        return [Problem("query", f"SQL file {doc['query']!r} does not exist (paths are relative to the project root)")]
    return []


def _notifier_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """Every ``notifier`` reference must import (as Airflow will when it builds the DAG)."""
    problems: list[Problem] = []
    for i, entry in enumerate(doc["notifications"]["on_failure"]):
        if "notifier" not in entry:
            continue
        try:
            resolve_notifier(entry["notifier"])
        except NotifierError as exc:
            problems.append(Problem(f"notifications.on_failure[{i}].notifier", str(exc)))
    return problems


def _identifier_problems(doc: Mapping[str, Any]) -> list[Problem]:
    mapped = doc["identifiers"]
    return [
        Problem(f"prehashed[{i}]", f"{kind!r} is not mapped in identifiers")
        for i, kind in enumerate(doc.get("prehashed", []))
        if kind not in mapped
    ]


def _destination_problems(doc: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, dest in enumerate(doc["destinations"]):
        dest_id = destination_id(dest)
        if dest_id in seen:
            problems.append(
                Problem(
                    f"destinations[{i}].id",
                    f"id {dest_id!r} is already used by destinations[{seen[dest_id]}]; give each an explicit `id`",
                )
            )
        seen.setdefault(dest_id, i)
        problems += [Problem(f"destinations[{i}].{f}", m) for f, m in _needs(dest, doc["identifiers"])]
        problems += [Problem(f"destinations[{i}].{f}", m) for f, m in _plain_needs(dest, doc.get("prehashed", []))]
    return problems


def _webhook_problems(doc: Mapping[str, Any]) -> list[Problem]:
    ids = {destination_id(d) for d in doc["destinations"]}
    return [
        Problem(f"webhooks[{i}].destinations[{j}]", f"{name!r} is not a destination id of this behavior")
        for i, hook in enumerate(doc.get("webhooks", []))
        for j, name in enumerate(hook.get("destinations", []))
        if name not in ids
    ]


def _plain_needs(dest: Mapping[str, Any], prehashed: Sequence[str]) -> list[tuple[str, str]]:
    """CRMs (HubSpot, CleverTap by e-mail) need the plain e-mail address: a pre-hashed one cannot be sent."""
    if "email" not in prehashed:
        return []
    if dest["type"] == "hubspot":
        return [("type", "HubSpot matches contacts by plain e-mail, but prehashed lists email")]
    if dest["type"] == "clevertap" and dest["identity"] == "email":
        return [("identity", "identity 'email' needs the plain e-mail, but prehashed lists email; use member_key")]
    return []


def _needs(dest: Mapping[str, Any], identifiers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Identifier requirements of one destination: (field, message) for each unmet one."""
    kind = dest["type"]
    unmet: list[tuple[str, str]] = []
    if kind == "hubspot" and "email" not in identifiers:
        unmet.append(("type", "HubSpot matches contacts by email: map identifiers.email"))
    if kind == "clevertap" and dest["identity"] == "email" and "email" not in identifiers:
        unmet.append(("identity", "identity 'email' needs identifiers.email"))
    if kind == "google_ads":
        unmet += _google_needs(dest, identifiers)
    for j, key in enumerate(dest.get("match_keys", []) if kind == "meta" else []):
        if key not in identifiers:
            unmet.append((f"match_keys[{j}]", f"{key!r} is not mapped in identifiers"))
    return unmet


def _google_needs(dest: Mapping[str, Any], identifiers: Mapping[str, str]) -> list[tuple[str, str]]:
    """A google_ads destination's upload keys: one upload key type, its identifiers mapped, app_id with mobile ids."""
    try:
        key_type = google_key_type(dest["upload_keys"])
    except ValueError as exc:
        return [("upload_keys", str(exc))]
    unmet: list[tuple[str, str]] = []
    if key_type == "mobile_id" and "app_id" not in dest:
        unmet.append(
            ("app_id", "upload_keys mobile_id needs app_id (iOS: the App Store id; Android: the package name)")
        )
    if key_type != "mobile_id" and "app_id" in dest:
        unmet.append(("app_id", "app_id is only used with upload_keys [mobile_id]"))
    id_types = {t for key in dest["upload_keys"] for t in GOOGLE_UPLOAD_KEYS[key]}
    rules = sorted((rule for rule in GOOGLE_RULES if rule.id_type in id_types), key=lambda rule: rule.id_type)
    if not any(rule.applies_to(frozenset(identifiers)) for rule in rules):
        needed = " or ".join("+".join(rule.sources) for rule in rules)
        unmet.append(("upload_keys", f"upload_keys {list(dest['upload_keys'])} need identifiers {needed} mapped"))
    return unmet


def destination_id(dest: Mapping[str, Any]) -> str:
    """Explicit ``id``, else the type (``hubspot_<mode>`` for HubSpot)."""
    if "id" in dest:
        return str(dest["id"])
    return f"hubspot_{dest['mode']}" if dest["type"] == "hubspot" else str(dest["type"])


_COMMON_DESTINATION_FIELDS = frozenset({"type", "id", "connection", "frequency"})


def _build_destination(dest: Mapping[str, Any]) -> Destination:
    return Destination(
        id=destination_id(dest),
        type=dest["type"],
        connection=dest.get("connection") or DEFAULT_CONNECTIONS[dest["type"]],
        frequency=dest["frequency"],
        settings=MappingProxyType({k: v for k, v in dest.items() if k not in _COMMON_DESTINATION_FIELDS}),
    )


def _build(path: Path, doc: Mapping[str, Any]) -> Behavior:
    return Behavior(
        slug=path.stem,
        name=doc["name"],
        description=doc.get("description", ""),
        owner=doc["owner"],
        tags=tuple(doc.get("tags", [])),
        schedule=SCHEDULE_PRESETS.get(doc["schedule"], doc["schedule"]),
        start_date=dt.date.fromisoformat(doc["start_date"]),
        catchup=doc["catchup"],
        retries=doc["retries"],
        query_path=(PROJECT_DIR / doc["query"]).resolve(),
        warehouse_connection=doc["warehouse"],
        member_key=doc["member_key"],
        identifiers=MappingProxyType(dict(doc["identifiers"])),
        prehashed=tuple(doc.get("prehashed", [])),
        default_region=doc["default_region"],
        consent=MappingProxyType(dict(doc.get("consent", {}))),
        guardrails=MappingProxyType(dict(doc.get("guardrails", {}))),
        quality=MappingProxyType(dict(doc.get("quality", {}))),
        destinations=tuple(_build_destination(d) for d in doc["destinations"]),
        source_file=path,
        webhooks=tuple(MappingProxyType(dict(w)) for w in doc.get("webhooks", [])),
        on_failure=tuple(MappingProxyType(dict(n)) for n in doc.get("notifications", {}).get("on_failure", [])),
        reconcile=MappingProxyType(dict(doc.get("reconcile", {}))),
    )
