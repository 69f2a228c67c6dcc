"""``python -m behavior_sync``: the project's command line (see ``behavior_sync.cli``)."""

from __future__ import annotations

import sys

from behavior_sync.cli import main

if __name__ == "__main__":
    sys.exit(main())
