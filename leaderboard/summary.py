"""The board as ``probe leaderboard show`` needs it, read without pydantic.

Importing pydantic and building the models takes about 0.08 s and validating every field of a 1,000-entry board
of the paper's 7 tasks about 0.15 s more (benchmarks/leaderboard_scale.py): over show's 0.3 s budget together
with Python and the command line. ``show`` needs each result's key, status, main score and direction, so this
reader checks the file's marker and version and those fields, and leaves the rest to :func:`leaderboard.load`,
which every writer, ``compare`` and ``render`` use. The objects it returns have the attributes of
:class:`leaderboard.schema.Leaderboard` that the table reads (``entries``, ``results``, ``key``, ...).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError
from leaderboard.layout import read_board_json


@dataclass(frozen=True)
class ResultSummary:
    task: str
    dataset: str
    main_score_name: str
    main_score: float | None  # None for a not_applicable result
    status: str = "ok"
    higher_is_better: bool | None = None
    main_score_label: str | None = None

    @property
    def key(self) -> str:
        return f"{self.task}/{self.dataset}"


@dataclass(frozen=True)
class EntrySummary:
    entry_id: str
    results: dict[str, ResultSummary] = field(default_factory=dict)


@dataclass(frozen=True)
class BoardSummary:
    entries: dict[str, EntrySummary] = field(default_factory=dict)
    path: str | None = None


def load_summary(path: str | os.PathLike) -> BoardSummary:
    """The entries and their results' main scores from the board at ``path``; a missing file is an empty board.

    Errors are one line naming the file, as :func:`leaderboard.load` gives them for the fields read here.
    """
    path = Path(path)
    data = read_board_json(path)
    if data is None:
        return BoardSummary(path=str(path))
    entries = data.get("entries")
    if not isinstance(entries, dict):
        raise LeaderboardError(f"{path}: entries must be an object")
    summaries = {}
    for entry_id, entry in entries.items():
        results = entry.get("results", {}) if isinstance(entry, dict) else None
        if not isinstance(results, dict):
            raise LeaderboardError(f"{path}: entries.{entry_id}: must be an object with results")
        try:
            summaries[entry_id] = EntrySummary(entry_id, {key: _result(key, value) for key, value in results.items()})
        except ValueError as err:
            raise LeaderboardError(f"{path}: entries.{entry_id}.results.{err}") from None
    return BoardSummary(summaries, str(path))


def _result(key: str, data: Any) -> ResultSummary:
    if not isinstance(data, dict):
        raise ValueError(f"{key}: must be an object")
    texts = {name: data.get(name) for name in ("task", "dataset", "main_score_name")}
    for name, value in texts.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key}.{name}: must be a non-empty string")
    status, main_score = data.get("status", "ok"), data.get("main_score")
    if status not in ("ok", "not_applicable"):
        raise ValueError(f"{key}.status: must be 'ok' or 'not_applicable'")
    if status == "ok" and (isinstance(main_score, bool) or not isinstance(main_score, (int, float))
                           or not math.isfinite(main_score)):
        raise ValueError(f"{key}.main_score: must be a finite number")
    higher_is_better, label = data.get("higher_is_better"), data.get("main_score_label")
    if not isinstance(higher_is_better, (bool, type(None))) or not isinstance(label, (str, type(None))):
        raise ValueError(f"{key}: higher_is_better must be true, false or null and main_score_label a string")
    result = ResultSummary(**texts, main_score=None if main_score is None else float(main_score), status=status,
                           higher_is_better=higher_is_better, main_score_label=label)
    if result.key != key:
        raise ValueError(f"{key}: holds a result for {result.key!r}")
    return result
