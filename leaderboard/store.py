"""Reading and updating a leaderboard file and its per-example files safely.

Writers serialise on ``<file>.lock``; each per-example file and then the board are replaced atomically, so
concurrent writers lose no result and readers, who take no lock, always see complete files (a per-example file
exists before the board that names it). A file that cannot be read as a leaderboard is reported and left
untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from leaderboard.errors import LeaderboardError
from leaderboard.examples import load_examples, store_examples, with_examples
from leaderboard.layout import board_text, read_board_json
from leaderboard.schema import Entry, Leaderboard, TaskResult, one_line
from probe_common.atomic import write_text

__all__ = ["add_result", "check_writable", "load", "load_examples", "with_examples"]


def load(path: str | os.PathLike) -> Leaderboard:
    """Read the leaderboard at ``path``, every field checked; a missing file is an empty leaderboard.

    Raises :class:`LeaderboardError` naming the file if it is not valid JSON (with line and column) or not a
    leaderboard of a version this code reads. Per-example files are not read here (see :func:`load_examples`);
    ``probe leaderboard show`` reads only what it shows (leaderboard.summary).
    """
    path = Path(path)
    data = read_board_json(path)
    try:
        board = Leaderboard() if data is None else Leaderboard.model_validate(data)
    except ValidationError as error:
        raise LeaderboardError(f"{path}: {one_line(error)}") from None
    board._path = str(path)
    return board


def add_result(path: str | os.PathLike, entry_meta: Entry, task_result: TaskResult) -> Entry:
    """Add ``task_result`` for the encoder ``entry_meta`` to the file at ``path``.

    Creates the file (and its directory) if needed. The result's ``per_example`` values and ``extra`` go to a
    per-example file beside the board (see :mod:`leaderboard.examples`); the board keeps its summary. A result for
    the same entry and ``"{task}/{dataset}"`` is replaced and the old one kept in the entry's history; see
    :meth:`Leaderboard.add_result`. Returns the updated entry.
    """
    from filelock import FileLock  # here: readers need no lock, and `show` should not pay for importing it

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock"):
            board = load(path)
            _store_inline_examples(path, board)  # a version-1 board keeps its values inline until now
            entry = board.add_result(entry_meta, store_examples(path, task_result))
            # Atomic, and after the per-example file: a failed write leaves the old board as it was.
            write_text(path, board_text(board))
    except OSError as err:  # the lock file or folder cannot be made: read-only or full disk
        raise LeaderboardError(f"{path}: cannot write: {err.strerror or err}") from None
    return entry


def _store_inline_examples(path: Path, board: Leaderboard) -> None:
    for entry in board.entries.values():
        for key, result in entry.results.items():
            if result.has_inline_examples:
                entry.results[key] = store_examples(path, result)
        entry.history = [store_examples(path, result) if result.has_inline_examples else result
                         for result in entry.history]


def check_writable(path: str | os.PathLike) -> Leaderboard:
    """The board at ``path``, loaded now: fail here, not after hours of work, when results could not be added.

    Raises :class:`LeaderboardError` if ``path`` is a folder, is not a valid
    leaderboard, or lies on a read-only file system or in a folder we may not write.
    """
    path = Path(path)
    board = load(path)  # a folder or an invalid file is reported here
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not os.access(folder, os.W_OK):  # access() reports EROFS even to root
        raise LeaderboardError(f"{path}: cannot write: {folder} is read-only or not writable")
    return board
