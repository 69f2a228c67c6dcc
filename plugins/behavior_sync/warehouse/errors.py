"""Errors of warehouse extraction, with messages that are safe to log.

A message names what failed and what to do. It never holds a password (URLs are rendered
masked) and never row values: driver messages of the PEP 249 classes that describe data
(``DataError``, ``IntegrityError``) have their quoted parts blanked, since drivers quote the
offending value there (``invalid input syntax for type integer: "..."``).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

_DATA_BEARING_CLASSES = frozenset({"DataError", "IntegrityError"})
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")

HINT_CONNECT = "Check the warehouse URL, its credentials and that the database is reachable from this worker."
HINT_QUERY = "Check the behavior SQL (tables, columns, parameters) against this warehouse."
HINT_READ = "The query failed while its rows were streamed; check the SQL and the warehouse's logs."


class WarehouseError(Exception):
    """Extraction from the warehouse failed.

    The message names what failed and what to do. It never includes row values (PII) or passwords.
    Driver errors are chained (``__cause__``) for debugging, except those whose raw text may quote
    row values (``chainable``).
    """


def safe_url(url: str) -> str:
    """``url`` with its password masked; ``<unparseable URL>`` when it is not a SQLAlchemy URL."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return "<unparseable URL>"


def chainable(exc: BaseException) -> BaseException | None:
    """What to chain as ``__cause__``: the driver error, or None when its raw text may quote row values.

    Airflow prints the whole chain in task logs, so a scrubbed message alone would not keep values out.
    """
    cause = getattr(exc, "orig", None) or exc
    return None if _is_data_bearing(cause) else exc


def _is_data_bearing(cause: BaseException) -> bool:
    return any(klass.__name__ in _DATA_BEARING_CLASSES for klass in type(cause).__mro__)


def driver_error(action: str, url: str, exc: BaseException, hint: str) -> WarehouseError:
    """A WarehouseError for a driver failure: ``could not <action> <masked url>: <class>: <message>``.

    SQLAlchemy's wrappers are unwrapped to the driver's own exception (its ``orig``), so the message
    carries neither the statement's parameters nor SQLAlchemy's boilerplate. The caller chains
    ``chainable(exc)``.
    """
    cause = getattr(exc, "orig", None) or exc
    message = str(cause).strip() or "(no message)"
    if _is_data_bearing(cause):
        message = _QUOTED.sub("'…'", message)
    message = _without_password(message, url)
    return WarehouseError(f"could not {action} {safe_url(url)}: {type(cause).__name__}: {message}\n{hint}")


def _without_password(message: str, url: str) -> str:
    """``message`` with any occurrence of the URL's password masked (belt and braces)."""
    try:
        password = sa.make_url(url).password
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return message
    return message.replace(str(password), "***") if password else message
