"""Per-example files: the bulky part of each result, beside the board, compressed and named by their sha256.

``board.json`` keeps the summaries that ``show`` needs; ``board.examples/<sha256>.json.gz`` holds one result's
``per_example`` values and ``extra`` data. The name is the sha256 of the file's bytes (content addressing), so a
file is written once and never changed, identical results share it, a crash between writing it and replacing the
board leaves only an unreferenced file, and every read can check it against the hash the board records.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

from pydantic import ValidationError

from leaderboard.errors import CorruptExamples, LeaderboardError, MissingExamples
from leaderboard.schema import ExampleValues, TaskResult, one_line
from probe_common.atomic import write_bytes
from probe_common.hashing import bytes_sha256

SUFFIX = ".json.gz"


def examples_dir(board_path: str | os.PathLike) -> Path:
    """The folder of a board's per-example files: ``leaderboard.json`` -> ``leaderboard.examples``."""
    board_path = Path(board_path)
    stem = board_path.stem if board_path.suffix == ".json" else board_path.name
    return board_path.with_name(f"{stem}.examples")


def examples_path(board_path: str | os.PathLike, sha256: str) -> Path:
    return examples_dir(board_path) / f"{sha256}{SUFFIX}"


def store_examples(board_path: str | os.PathLike, result: TaskResult) -> TaskResult:
    """``result`` as the board keeps it: inline ``per_example``/``extra`` written to their per-example file
    (once: an identical file is reused) and replaced by its ``examples_sha256``.

    A result without inline values is returned as it is, after checking that a per-example file it names is
    beside this board. An existing file under the same name that does not match it is refused and left as it is.
    """
    if not result.has_inline_examples:
        if result.examples_sha256 is not None and not examples_path(board_path, result.examples_sha256).is_file():
            raise MissingExamples(f"{examples_path(board_path, result.examples_sha256)}: the per-example file of "
                                  f"{result.key} is not beside this board; add the result with its values")
        return result
    values = ExampleValues(per_example=result.per_example, extra=result.extra)
    # mtime=0: the same values give the same bytes, hence the same name.
    data = gzip.compress(values.model_dump_json().encode(), compresslevel=6, mtime=0)
    sha256 = bytes_sha256(data)
    path = examples_path(board_path, sha256)
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        write_bytes(path, data)  # atomic: readers see the whole file or none
    except OSError as err:
        raise LeaderboardError(f"{path}: cannot read: {err.strerror or err}") from None
    else:
        if bytes_sha256(existing) != sha256:
            raise CorruptExamples(f"{path}: does not match its sha256 (changed or replaced); "
                                  "move it away and add the result again")
    return result.model_copy(update={"examples_sha256": sha256, "per_example": None, "extra": {}})


def load_examples(board_path: str | os.PathLike | None, result: TaskResult) -> ExampleValues:
    """The per-example values and extra data of ``result``, a result of the board at ``board_path``.

    A result that holds them in memory (built by a task, or read from a version-1 board) needs no file. Raises
    :class:`MissingExamples` when the file is gone and :class:`CorruptExamples` when it does not match its sha256
    or is not a per-example file of this result; both messages are one line naming the file.
    """
    if result.examples_sha256 is None:
        return ExampleValues(per_example=result.per_example, extra=result.extra)
    if board_path is None:
        raise MissingExamples(f"{result.key}: its per-example file lies beside a board file; this board was not "
                              "read from one")
    path = examples_path(board_path, result.examples_sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingExamples(f"{path}: the per-example file of {result.key} is missing") from None
    except OSError as err:
        raise LeaderboardError(f"{path}: cannot read: {err.strerror or err}") from None
    if bytes_sha256(data) != result.examples_sha256:
        raise CorruptExamples(f"{path}: the per-example file of {result.key} does not match its sha256 "
                              "(changed or replaced)")
    try:
        values = ExampleValues.model_validate_json(gzip.decompress(data))
    except (OSError, EOFError, zlib.error, ValidationError, json.JSONDecodeError) as err:
        # Only a file written by another program can match its hash and still be malformed.
        reason = one_line(err) if isinstance(err, ValidationError) else str(err)
        raise CorruptExamples(f"{path}: not a per-example file: {reason}") from None
    if values.per_example is not None and len(values.per_example) != result.n_examples:
        raise CorruptExamples(f"{path}: holds {len(values.per_example)} values, {result.key} has "
                              f"{result.n_examples} examples")
    return values


def with_examples(board_path: str | os.PathLike | None, result: TaskResult) -> TaskResult:
    """``result`` with its ``per_example`` and ``extra`` filled from its per-example file (see load_examples)."""
    if result.examples_sha256 is None:
        return result
    values = load_examples(board_path, result)
    return result.model_copy(update={"per_example": values.per_example, "extra": values.extra})
