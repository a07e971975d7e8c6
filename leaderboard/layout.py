"""How a board is laid out in its file, apart from what the fields mean (leaderboard.schema): the format marker
and version, one compact line per entry, and the fields that every result of a column shares, written once.

A 1,000-entry board of the paper's 7 tasks holds 7,000 results. Written plainly, each repeats its task's declared
metadata and the hash of its example set, over a third of the file. Under ``"columns"`` those fields are written
once per ``"task/dataset"``; a result writes only the ones where it differs (a run on fewer sentences, a task
whose declaration changed), and always its ``task`` and ``dataset``. Reading expands them back, so every result
in memory is whole. Fields that are None are left out.

This module imports no pydantic: ``probe leaderboard show`` reads the file through it (leaderboard.summary).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leaderboard.errors import LeaderboardError

if TYPE_CHECKING:
    from leaderboard.schema import Entry, Leaderboard, TaskResult

# Marks a JSON file as a leaderboard; files without it are never interpreted.
FORMAT_NAME = "probe-leaderboard"
SCHEMA_VERSION = 3
# Versions this code upgrades on reading: version 1 kept per-example values inline and had fewer result fields.
UPGRADABLE_VERSIONS = (1, 2)
# Result fields that a column's results usually share: the task's declaration and the evaluated example set.
COLUMN_FIELDS = ("split", "main_score_name", "main_score_label", "higher_is_better", "plot", "paper_ref",
                 "n_examples", "example_ids_hash")


def read_board_json(path: Path) -> dict[str, Any] | None:
    """The parsed, checked and expanded JSON of the board at ``path``; None when there is no file.

    Raises a one-line :class:`LeaderboardError` naming the file: a folder, unreadable, not UTF-8, invalid JSON
    (with line and column), not a leaderboard, or a version this code does not read.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise LeaderboardError(f"{path}: is a folder; --leaderboard takes a JSON file") from None
    except OSError as err:  # no permission, an I/O error
        raise LeaderboardError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise LeaderboardError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise LeaderboardError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    try:
        return expand_columns(current_version(data))
    except LeaderboardError as err:
        raise LeaderboardError(f"{path}: {err}") from None


def current_version(data: Any) -> dict[str, Any]:
    """``data`` if it is a leaderboard of this version, upgraded if it is of an older one this code reads."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise LeaderboardError(f'not a leaderboard file (expected a JSON object with "format": "{FORMAT_NAME}")')
    version = data.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        raise LeaderboardError(f"schema_version {version} was written by a newer probe; this one reads versions up "
                               f"to {SCHEMA_VERSION}: upgrade probe (pip install -U probe)")
    if type(version) is int and version in UPGRADABLE_VERSIONS:
        # Every field of versions 1 and 2 exists in version 3 (which added a result's max_sentences); version 1's
        # inline per_example/extra move to per-example files on the next write (leaderboard.store.add_result).
        return {**data, "schema_version": SCHEMA_VERSION}
    if type(version) is not int or version != SCHEMA_VERSION:
        readable = ", ".join(map(str, (*UPGRADABLE_VERSIONS, SCHEMA_VERSION)))
        raise LeaderboardError(f"unsupported schema_version {version!r}; this code reads versions {readable}: "
                               "re-run the tasks into a new leaderboard file")
    return data


def expand_columns(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each result's shared column fields filled in from ``"columns"`` (which it loses)."""
    data = dict(data)
    columns = data.pop("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(fields, dict) for fields in columns.values()):
        raise LeaderboardError('"columns" must map "task/dataset" to an object of shared result fields')
    for key, fields in columns.items():
        unknown = sorted(set(fields) - set(COLUMN_FIELDS))
        if unknown:
            raise LeaderboardError(f"columns[{key!r}] has field(s) that results do not share: {', '.join(unknown)}")
    entries = data.get("entries")
    if not columns or not isinstance(entries, dict):
        return data  # nothing to fill in; the schema reports a malformed board

    def whole(result: Any) -> Any:
        if not isinstance(result, dict):
            return result
        shared = columns.get(f"{result.get('task')}/{result.get('dataset')}")
        return {**shared, **result} if shared else result

    for entry in entries.values():
        if isinstance(entry, dict):
            if isinstance(entry.get("results"), dict):
                entry["results"] = {key: whole(result) for key, result in entry["results"].items()}
            if isinstance(entry.get("history"), list):
                entry["history"] = [whole(result) for result in entry["history"]]
    return data


def board_text(board: Leaderboard) -> str:
    """The file's text: markers, the shared column fields, then one compact line per entry.

    Compact because indentation alone adds a fifth to a large board; one entry per line so that a diff of two
    versions of the file shows which entries changed.
    """
    columns = shared_columns(board)
    column_lines = [f"{json.dumps(key)}: {json.dumps({n: v for n, v in fields.items() if v is not None})}"
                    for key, fields in columns.items()]
    entry_lines = [f"{json.dumps(entry_id)}: {entry.model_dump_json(exclude=_entry_exclude(entry, columns))}"
                   for entry_id, entry in board.entries.items()]
    return (f'{{"format": {json.dumps(FORMAT_NAME)}, "schema_version": {SCHEMA_VERSION},\n'
            f'"columns": {{{_lines(column_lines)}}},\n"entries": {{{_lines(entry_lines)}}}}}\n')


def _lines(items: list[str]) -> str:
    return "\n" + ",\n".join(items) + "\n" if items else ""


def shared_columns(board: Leaderboard) -> dict[str, dict[str, Any]]:
    """For each ``"task/dataset"``, the column fields' values that most of its results (history too) have."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for entry in board.entries.values():
        for result in (*entry.results.values(), *entry.history):
            counts[result.key][tuple(getattr(result, name) for name in COLUMN_FIELDS)] += 1
    # most_common keeps first-seen order among ties, so the same board always gives the same file.
    return {key: dict(zip(COLUMN_FIELDS, counter.most_common(1)[0][0])) for key, counter in sorted(counts.items())}


def _entry_exclude(entry: Entry, columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    exclude: dict[str, Any] = {name: True for name, value in entry if value is None}
    results = {key: _result_exclude(result, columns[key]) for key, result in entry.results.items()}
    history = {index: _result_exclude(result, columns[result.key]) for index, result in enumerate(entry.history)}
    exclude["results"] = {key: fields for key, fields in results.items() if fields}
    exclude["history"] = {index: fields for index, fields in history.items() if fields}
    return {name: value for name, value in exclude.items() if value}


def _result_exclude(result: TaskResult, shared: dict[str, Any]) -> set[str]:
    # A column field is left out when the column has its value; one that differs is written, null included.
    return ({name for name in COLUMN_FIELDS if getattr(result, name) == shared[name]}
            | {name for name, value in result if value is None and name not in COLUMN_FIELDS})

