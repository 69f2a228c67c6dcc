"""JSON Schema validation of YAML documents with readable, field-level problems.

Used for behavior files (``include/schemas/behavior.schema.json``) and connection
extras (``include/schemas/connections/*.json``). Problems name the field path the
way a person writes it (``destinations[1].membership_days``), never a schema path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from behavior_sync.paths import schemas_dir


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document: where (field path, ``""`` for the root) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def field_path(parts: Any) -> str:
    """Render a jsonschema path deque as ``a.b[2].c``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader (libyaml when available: ~10x faster) that rejects duplicated mapping keys.

    PyYAML silently keeps the last of two equal keys.
    """


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicated key {key!r}", key_node.start_mark)
        seen.add(key)
    mapping: dict[Any, Any] = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; returns (document, problems). Syntax errors become one problem with line/column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem("", f"invalid YAML{where}: {reason}")]


@cache
def load_schema(relative_path: str) -> dict[str, Any]:
    """Load a JSON Schema from ``include/schemas`` (cached; raises FileNotFoundError if absent)."""
    schema: dict[str, Any] = json.loads((schemas_dir() / relative_path).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


def _problem_from_error(error: ValidationError) -> Problem:
    path = field_path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        known = ", ".join(sorted(allowed))
        prefix = f"{path}." if path else ""
        return Problem(f"{prefix}{unknown[0]}" if unknown else path, f"unknown field (allowed here: {known})")
    if error.validator == "pattern" and "description" in error.schema:  # say what is expected, not the regex
        return Problem(path, f"{error.instance!r} does not match: {error.schema['description']}")
    return Problem(path, error.message)


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    """Descend into if/then and allOf wrappers so the reported error is the specific one."""
    for error in errors:
        if error.context:
            yield from _leaf_errors(iter(error.context))
        else:
            yield error


def validate_with_defaults(document: Any, schema_name: str) -> tuple[Any, list[Problem]]:
    """Validate against ``include/schemas/<schema_name>`` in one pass that also fills every ``default``.

    Works on a deep copy of ``document``.

    Returns (filled copy, sorted problems). The copy is meaningful only when there are no problems.
    Defaults are filled where the schema applies (``then`` branches only when their ``if`` matched),
    so the schema must not use ``anyOf``/``oneOf`` around properties with defaults.
    """
    filled = copy.deepcopy(document)
    errors = _validator(schema_name).iter_errors(filled)
    return filled, sorted({_problem_from_error(e) for e in _leaf_errors(errors)})


@cache
def _validator(schema_name: str) -> Any:
    return _DefaultFillingValidator(load_schema(schema_name), format_checker=FormatChecker())


def _set_defaults(validator_class: Any) -> Any:
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator: Any, properties: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, Mapping) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _set_defaults(Draft202012Validator)


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 file; an unreadable file becomes a problem instead of an exception."""
    try:
        return path.read_text(encoding="utf-8"), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem("", f"cannot read file: {type(exc).__name__}: {exc}")]
