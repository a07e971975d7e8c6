"""A JSON leaderboard of evaluation results of sentence encoders.

Results are recorded with :func:`add_result` (safe under concurrent writers), read with :func:`load` (and
their per-example values with :func:`load_examples`), compared with :func:`compare_entries`, and shown with
:func:`show_table` / :func:`format_table` or as a page by :func:`render_html`.

Names are imported on first use: ``probe leaderboard show`` loads neither scipy (bootstrap) nor matplotlib
(render), and nothing here imports torch or ``vae``.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "SCHEMA_VERSION": "leaderboard.schema",
    "Entry": "leaderboard.schema",
    "ExampleValues": "leaderboard.schema",
    "Leaderboard": "leaderboard.schema",
    "TaskResult": "leaderboard.schema",
    "CorruptExamples": "leaderboard.errors",
    "LeaderboardError": "leaderboard.errors",
    "MissingExamples": "leaderboard.errors",
    "add_result": "leaderboard.store",
    "load": "leaderboard.store",
    "load_examples": "leaderboard.store",
    "with_examples": "leaderboard.store",
    "load_summary": "leaderboard.summary",
    "bootstrap_ci": "leaderboard.bootstrap",
    "paired_bootstrap_diff": "leaderboard.bootstrap",
    "unpaired_bootstrap_diff": "leaderboard.bootstrap",
    "Comparison": "leaderboard.compare",
    "compare_entries": "leaderboard.compare",
    "render_html": "leaderboard.render",
    "format_table": "leaderboard.table",
    "show_table": "leaderboard.table",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'leaderboard' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
