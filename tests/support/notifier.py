"""An Airflow notifier for tests: appends "<dag_id> <task_id>" per call to the file in BSYNC_TEST_NOTIFY_FILE."""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier


class FileNotifier(BaseNotifier):
    """Records which task it was called for (the file is the test's)."""

    def notify(self, context: Any) -> None:
        with open(os.environ["BSYNC_TEST_NOTIFY_FILE"], "a", encoding="utf-8") as out:
            out.write(f"{context['dag'].dag_id} {context['ti'].task_id}\n")


RECORDER = FileNotifier()
