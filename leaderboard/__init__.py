"""A JSON leaderboard of evaluation results of sentence encoders.

Results are recorded with :func:`add_result` (safe under concurrent writers),
read with :func:`load`, compared with :func:`compare_entries`, and shown with
:func:`show_table` / :func:`format_table` or as a page by :func:`render_html`.
"""

from leaderboard.bootstrap import bootstrap_ci, paired_bootstrap_diff, unpaired_bootstrap_diff
from leaderboard.compare import Comparison, compare_entries
from leaderboard.errors import LeaderboardError
from leaderboard.render import render_html
from leaderboard.schema import SCHEMA_VERSION, Entry, Leaderboard, TaskResult
from leaderboard.store import add_result, load
from leaderboard.table import format_table, show_table

__all__ = [
    "SCHEMA_VERSION",
    "Comparison",
    "Entry",
    "Leaderboard",
    "LeaderboardError",
    "TaskResult",
    "add_result",
    "bootstrap_ci",
    "compare_entries",
    "format_table",
    "load",
    "paired_bootstrap_diff",
    "render_html",
    "show_table",
    "unpaired_bootstrap_diff",
]
