"""Task failure notifications of a behavior's DAG: Airflow notifiers from the file's ``notifications.on_failure``.

Each entry is one of:

* ``email: {to: [...], connection: smtp_default}``: Airflow's ``SmtpNotifier`` (providers-smtp) with a
  subject and body naming the behavior, the task, the run and the log URL;
* ``notifier: module:attribute``: any Airflow notifier instance (``BaseNotifier``, e.g. a
  ``SlackNotifier`` configured in a module under ``plugins/``), or a callable taking the context.

They become the tasks' ``on_failure_callback`` (a list), so every failed task of the behavior calls
each of them once, after its last retry. A ``notifier`` reference is resolved by
``behavior_sync.notifier_refs`` (the same check ``python -m behavior_sync validate`` makes), and an entry
that cannot be used raises ``NotifierError`` naming the field: the behavior's DAG becomes an INVALID
placeholder like any broken file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from behavior_sync.notifier_refs import NotifierError, resolve_notifier

SUBJECT = "[Behavior Sync] {{ dag.dag_id }}: task {{ ti.task_id }} failed ({{ run_id }})"
BODY = (
    "<p>Task <b>{{ ti.task_id }}</b> of <b>{{ dag.dag_id }}</b> failed in run {{ run_id }} "
    "(try {{ ti.try_number }}).</p><p>Log: <a href='{{ ti.log_url }}'>{{ ti.log_url }}</a></p>"
)


def failure_callbacks(entries: Sequence[Mapping[str, Any]]) -> list[Callable[[Any], None]]:
    """The notifiers of ``notifications.on_failure``, in file order."""
    return [_callback(i, entry) for i, entry in enumerate(entries)]


def _callback(index: int, entry: Mapping[str, Any]) -> Callable[[Any], None]:
    field = f"notifications.on_failure[{index}]"
    if "email" in entry:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        email = entry["email"]
        connection = email.get("connection", "smtp_default")
        notifier: Callable[[Any], None] = SmtpNotifier(
            to=list(email["to"]), smtp_conn_id=connection, subject=SUBJECT, html_content=BODY
        )
        return notifier
    try:
        return resolve_notifier(str(entry["notifier"]))
    except NotifierError as exc:
        raise NotifierError(f"{field}.notifier: {exc}") from None
