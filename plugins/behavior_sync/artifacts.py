"""Where a run's artifacts live, under a configurable base URI (design invariant 6).

The base is a local folder (default ``data/artifacts``) or any URI pyarrow.fs
understands (``s3://bucket/prefix``, ``gs://...``), so tasks of one run can
execute on different workers. Paths are keyed by (behavior, run id) and, below
that, by destination id, so re-running a task rewrites its own files only.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from behavior_sync.paths import default_data_dir

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def default_artifacts_base() -> str:
    """``BEHAVIOR_SYNC_ARTIFACTS_BASE`` or ``<data dir>/artifacts``."""
    return os.environ.get("BEHAVIOR_SYNC_ARTIFACTS_BASE") or str(default_data_dir() / "artifacts")


def normalize_base(base: str) -> str:
    """Absolute local path for scheme-less bases (relative ones resolve against the cwd); URIs unchanged."""
    return base.rstrip("/") if "://" in base else str(Path(base).expanduser().resolve())


def run_key(run_id: str) -> str:
    """A storage-safe, unique folder name for an Airflow run id.

    Characters outside ``[A-Za-z0-9._=-]`` become ``_`` (run ids contain ``:`` and ``+``); a short
    hash of the original id keeps two ids that sanitize alike apart.
    """
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', run_id).strip('_')[:150]}-{digest}"


@dataclass(frozen=True)
class RunArtifacts:
    """Artifact locations of one behavior run."""

    base: str
    behavior: str
    run_id: str

    @property
    def run_dir(self) -> str:
        """``<base>/<behavior>/runs/<run key>``."""
        return f"{normalize_base(self.base)}/{self.behavior}/runs/{run_key(self.run_id)}"

    @property
    def snapshot_uri(self) -> str:
        """The extracted members snapshot (Parquet)."""
        return f"{self.run_dir}/snapshot/members.parquet"

    @property
    def identity_dir(self) -> str:
        """Folder of the validate step's outputs (identities and quarantine Parquet)."""
        return f"{self.run_dir}/identity"

    def prepared_uri(self, destination_id: str) -> str:
        """One destination's prepared identifiers (member key, identifier type, value)."""
        return f"{self.destination_dir(destination_id)}/prepared.parquet"

    def prepared_members_uri(self, destination_id: str) -> str:
        """One destination's usable members with their fingerprints (member key, fp, changed)."""
        return f"{self.destination_dir(destination_id)}/members.parquet"

    def prepared_summary_uri(self, destination_id: str) -> str:
        """One destination's prepare summary (JSON counts and paths; read by the plan step)."""
        return f"{self.destination_dir(destination_id)}/prepared.json"

    def destination_dir(self, destination_id: str) -> str:
        """Folder of one destination's artifacts for this run (plan, batches, results)."""
        return f"{self.run_dir}/destinations/{destination_id}"
