"""JSON Schema validation of YAML documents with readable, field-level problems.

Used for behavior and import files (``include/schemas/{behavior,import}.schema.json``, read by
``behavior_sync.yaml_loading``) and connection extras (``include/schemas/connections/*.json``).
Problems name the field path the way a person writes it (``destinations[1].membership_days``),
never a schema path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from behavior_sync.paths import schemas_dir

MAX_FIELD_CHARS = 120
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document: where (field path, ``""`` for the root) and what.

    Both parts are made printable (control, zero-width and unpaired surrogate characters escaped) and
    capped at ``MAX_FIELD_CHARS`` / ``MAX_MESSAGE_CHARS`` (saying how long the original was), so a
    huge or hostile value in a file never becomes a huge or multi-line log line, UI text or DAG field.
    """

    field: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", clip(self.field, MAX_FIELD_CHARS))
        object.__setattr__(self, "message", clip(self.message, MAX_MESSAGE_CHARS))

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x00``, ``\\udcff``): one safe line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def clip(text: str, limit: int) -> str:
    """``printable(text)`` cut to ``limit`` characters, followed by a note of the original length when cut."""
    shown = printable(text[:limit])
    if len(text) <= limit and len(shown) <= limit:
        return shown
    return f"{shown[:limit]}… (cut: {len(text):,} characters)"


def field_path(parts: Any) -> str:
    """Render a jsonschema path deque as ``a.b[2].c``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


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
        return Problem(path, f"{_shown(error.instance)!r} does not match: {error.schema['description']}")
    if isinstance(error.instance, str) and "://" in error.instance:
        return Problem(path, error.message.replace(repr(error.instance), repr(_shown(error.instance))))
    return Problem(path, error.message)


def _shown(value: Any) -> Any:
    """``value`` as a problem may quote it: a URL without its ``user:password@``, query and fragment (a webhook
    URL's credentials must not reach placeholder DAGs, logs or the page)."""
    if not (isinstance(value, str) and "://" in value):
        return value
    from behavior_sync.webhooks import redact_url

    return redact_url(value)


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
