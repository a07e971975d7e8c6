"""Reading and updating a leaderboard file safely.

Writers serialise on ``<file>.lock`` and replace the file atomically, so
concurrent writers lose no result and readers, who take no lock, always see a
complete file. A file that cannot be read as a leaderboard is reported and
left untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock

from vae.atomic import write_text
from leaderboard.errors import LeaderboardError
from leaderboard.schema import Entry, Leaderboard, TaskResult


def load(path: str | os.PathLike) -> Leaderboard:
    """Read the leaderboard at ``path``; a missing file is an empty leaderboard.

    Raises :class:`LeaderboardError` naming the file if it is not valid JSON
    (with line and column) or not a leaderboard of this schema version.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Leaderboard()
    except IsADirectoryError:
        raise LeaderboardError(f"{path}: is a folder; --leaderboard takes a JSON file") from None
    except OSError as err:  # no permission, an I/O error
        raise LeaderboardError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise LeaderboardError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LeaderboardError(
            f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    try:
        return Leaderboard.from_dict(data)
    except LeaderboardError as err:
        raise LeaderboardError(f"{path}: {err}") from None


def add_result(path: str | os.PathLike, entry_meta: Entry, task_result: TaskResult) -> Entry:
    """Add ``task_result`` for the encoder ``entry_meta`` to the file at ``path``.

    Creates the file (and its directory) if needed. A result for the same entry
    and ``"{task}/{dataset}"`` is replaced and the old one kept in the entry's
    history; see :meth:`Leaderboard.add_result`. Returns the updated entry.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock"):
            board = load(path)
            entry = board.add_result(entry_meta, task_result)
            text = json.dumps(board.to_dict(), indent=1, allow_nan=False)
            write_text(path, text + "\n")  # atomic: a failed write leaves the old file as it was
    except OSError as err:  # the lock file or folder cannot be made: read-only or full disk
        raise LeaderboardError(f"{path}: cannot write: {err.strerror or err}") from None
    return entry


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, not after hours of work, when results could not be added to ``path``.

    Raises :class:`LeaderboardError` if ``path`` is a folder, is not a valid
    leaderboard, or lies on a read-only file system or in a folder we may not write.
    """
    path = Path(path)
    load(path)  # a folder or an invalid file is reported here
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not os.access(folder, os.W_OK):  # access() reports EROFS even to root
        raise LeaderboardError(f"{path}: cannot write: {folder} is read-only or not writable")
