"""``module:attribute`` references to failure notifiers (a behavior's ``notifications.on_failure[].notifier``).

Resolved by ``python -m behavior_sync validate`` and when Airflow builds the behavior's DAG, with the same
result: the module is imported (Airflow is not needed here, though the module usually imports it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class NotifierError(ValueError):
    """A notifier reference that cannot be used; the message says why (never with a traceback)."""


def resolve_notifier(reference: str) -> Callable[[Any], None]:
    """The callable ``module:attribute`` names (e.g. an Airflow ``BaseNotifier`` instance).

    Raises ``NotifierError`` when it cannot be imported or is not callable, whatever the module's import
    raised: ``SystemExit``, ``KeyboardInterrupt``, ``RecursionError`` and a time limit included, so one
    file's notifier never stops the other files from loading.
    """
    module_name, _, attribute = reference.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except BaseException as exc:  # noqa: BLE001 - a module's import may raise anything; it is this file's problem
        raise NotifierError(f"cannot load {reference!r} ({type(exc).__name__}: {exc})") from None
    if not callable(found):
        raise NotifierError(f"{reference!r} is not a notifier (not callable)")
    return found  # type: ignore[no-any-return]
