"""Which way a score is better, read from the records (TaskResult.higher_is_better, copied from the task's
declared metadata by the runner): the leaderboard never imports tasks/ to find out.

True: higher is better; False: lower is better; None: unknown (an older record) or descriptive (neither).
"""

from __future__ import annotations

from collections.abc import Iterable

HIGHER, LOWER = "↑", "↓"


def arrow(higher_is_better: bool | None) -> str:
    """The column mark: ↑ higher is better, ↓ lower is better, nothing when unknown or descriptive."""
    return {True: HIGHER, False: LOWER}.get(higher_is_better, "")


def shared_direction(results: Iterable) -> bool | None:
    """The direction of a column (or pair) of results: the one their records declare. Records without one
    are left out; records that disagree (a task redefined between runs) leave it unknown."""
    declared = {getattr(result, "higher_is_better", None) for result in results} - {None}
    return declared.pop() if len(declared) == 1 else None


def sorts_descending(higher_is_better: bool | None) -> bool:
    """Whether best-first order is highest first: yes unless lower is better (unknown: highest first)."""
    return higher_is_better is not False
