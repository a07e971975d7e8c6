"""The leaderboard as a table: one row per entry, one column per task's main score.

Each column's direction (↑ higher is better, ↓ lower is better) comes from its records (leaderboard.direction),
and sorting by a column puts the best first unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from leaderboard.direction import arrow, shared_direction, sorts_descending
from leaderboard.errors import LeaderboardError

if TYPE_CHECKING:  # a summary (leaderboard.summary) works as well: `show` must not pay for importing pydantic
    from leaderboard.schema import Leaderboard

ENTRY_COLUMN = "entry"
NOT_APPLICABLE = "n/a"
MISSING = "-"

# A cell: the entry id, a main score, NOT_APPLICABLE, or None when never run.
Cell = str | float | None


def show_table(
    board: Leaderboard,
    tasks: Iterable[str] | str | None = None,
    dataset: str | None = None,
    sort_by: str | None = None,
    descending: bool | None = None,
) -> tuple[list[str], list[list[Cell]]]:
    """Main scores as ``(columns, rows)``.

    Columns are ``"entry"`` followed by ``"{task}/{dataset}"`` keys in
    alphabetical order, restricted to the given task names and dataset. Each
    row starts with an entry id; only entries with a result in some column are
    listed. Rows are ordered by entry id, or by the ``sort_by`` column with
    entries lacking a score there last. ``descending=None`` puts the best first
    by the column's recorded direction (highest first when it is unknown);
    True or False overrides it.
    """
    results = [
        (entry_id, result)
        for entry_id, entry in board.entries.items()
        for result in entry.results.values()
    ]
    if tasks is not None:
        tasks = {tasks} if isinstance(tasks, str) else set(tasks)
        _check_known("task", tasks, {result.task for _, result in results})
        results = [(entry_id, result) for entry_id, result in results if result.task in tasks]
    if dataset is not None:
        _check_known("dataset", {dataset}, {result.dataset for _, result in results})
        results = [(entry_id, result) for entry_id, result in results if result.dataset == dataset]

    keys = sorted({result.key for _, result in results})
    cells: dict[str, dict[str, Cell]] = {}
    for entry_id, result in results:
        score = result.main_score if result.status == "ok" else NOT_APPLICABLE
        cells.setdefault(entry_id, {})[result.key] = score
    columns = [ENTRY_COLUMN, *keys]
    rows = [[entry_id, *(row.get(key) for key in keys)] for entry_id, row in sorted(cells.items())]
    if sort_by is not None:
        if descending is None:
            column = [result for _, result in results if result.key == sort_by]
            descending = sort_by != ENTRY_COLUMN and sorts_descending(shared_direction(column))
        rows = _sort_rows(rows, columns, sort_by, descending)
    return columns, rows


def column_directions(board: Leaderboard) -> dict[str, bool | None]:
    """``"{task}/{dataset}"`` -> whether higher is better there, from the records (None: unknown)."""
    by_key: dict[str, list] = {}
    for entry in board.entries.values():
        for result in entry.results.values():
            by_key.setdefault(result.key, []).append(result)
    return {key: shared_direction(results) for key, results in by_key.items()}


def format_table(
    columns: list[str], rows: list[list[Cell]], directions: dict[str, bool | None] | None = None
) -> str:
    """A plain-text table for the terminal: names left-aligned, scores right-aligned; with ``directions``
    (see :func:`column_directions`) each score column is marked ↑ or ↓."""
    columns = [column_header(column, directions) for column in columns]
    body = [[format_cell(cell) for cell in row] for row in rows]
    widths = [max(map(len, column)) for column in zip(columns, *body)]

    def line(cells: list[str]) -> str:
        padded = [cells[0].ljust(widths[0])]
        padded += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
        return "  ".join(padded).rstrip()

    rule = ["-" * width for width in widths]
    return "\n".join([line(columns), line(rule), *map(line, body)])


def column_header(column: str, directions: dict[str, bool | None] | None) -> str:
    """A column's name with its direction mark, e.g. ``lm/ptb ↓``."""
    return f"{column} {arrow((directions or {}).get(column))}".rstrip()


def format_cell(cell: Cell) -> str:
    """How a cell is shown: scores with four decimals, never-run results as ``-``."""
    if cell is None:
        return MISSING
    if isinstance(cell, float):
        return f"{cell:.4f}"
    return cell


def _check_known(kind: str, wanted: set[str], known: set[str]) -> None:
    # A typo in a filter would otherwise just give an empty table.
    unknown = sorted(wanted - known)
    if unknown:
        raise LeaderboardError(
            f"no results for {kind} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known)) or 'none'}"
        )


def _sort_rows(
    rows: list[list[Cell]], columns: list[str], sort_by: str, descending: bool
) -> list[list[Cell]]:
    if sort_by not in columns:
        raise LeaderboardError(
            f"unknown sort column {sort_by!r}; columns: {', '.join(columns)}"
        )
    index = columns.index(sort_by)
    if index == 0:
        return sorted(rows, key=lambda row: row[0], reverse=descending)
    # Sorting is stable, so ties keep entry-id order in both directions.
    scored = [row for row in rows if isinstance(row[index], float)]
    unscored = [row for row in rows if not isinstance(row[index], float)]
    return sorted(scored, key=lambda row: row[index], reverse=descending) + unscored
