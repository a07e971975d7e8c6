"""The leaderboard's data model: task results, entries and the file document.

The layout follows MTEB result files where that is sensible (task name,
``main_score``, a ``scores`` dict, evaluation time, library versions) and adds
what significance testing and format stability need: a bootstrap interval and
per-example values for paired comparisons, plus an explicit ``format`` marker
and ``schema_version`` so that a foreign or newer file is rejected, never
guessed at.

Every dataclass validates and normalises itself on construction, so a value
that exists in memory is one that can be written and read back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import numpy as np

from leaderboard.errors import LeaderboardError

SCHEMA_VERSION = 1
# Marks a JSON file as a leaderboard; files without it are never interpreted.
FORMAT_NAME = "probe-leaderboard"
STATUSES = ("ok", "not_applicable")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def utc_now() -> str:
    """The current time as an ISO 8601 string, the format of every ``date``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(kw_only=True)
class TaskResult:
    """The outcome of one evaluation task on one dataset split for one encoder.

    ``scores`` holds every score, including ``main_score`` under
    ``main_score_name``. ``per_seed`` is keyed by score name (a subset of
    ``scores``) and holds that score's value for each seed, e.g. few-label
    accuracies over repeated label draws. ``per_example`` holds the main
    metric for each of the ``n_examples`` examples (e.g. 0/1 correctness) and,
    with ``example_ids_hash``, enables paired comparison between encoders.
    ``extra`` is free-form JSON for plots (``curve``, ``scatter``,
    ``interpolations``). A result with ``status="not_applicable"`` carries a
    ``reason`` and no scores; build it with :meth:`TaskResult.not_applicable`.
    """

    task: str
    dataset: str
    split: str
    main_score_name: str
    main_score: float | None
    scores: dict[str, float]
    per_seed: dict[str, list[float]] = field(default_factory=dict)
    ci95: tuple[float, float] | None = None
    n_examples: int
    seconds: float
    per_example: list[float] | None = None
    example_ids_hash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    status: Literal["ok", "not_applicable"] = "ok"
    reason: str | None = None
    date: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        for name in ("task", "dataset", "split", "main_score_name"):
            _text(getattr(self, name), name)
        if self.status not in STATUSES:
            raise LeaderboardError(
                f"status must be one of {', '.join(STATUSES)}, got {_describe(self.status)}"
            )
        self.scores = {
            _text(name, "scores key"): _number(value, f"scores[{name!r}]")
            for name, value in _mapping(self.scores, "scores").items()
        }
        self.per_seed = {
            _text(name, "per_seed key"): _number_list(values, f"per_seed[{name!r}]")
            for name, values in _mapping(self.per_seed, "per_seed").items()
        }
        unknown = sorted(set(self.per_seed) - set(self.scores))
        if unknown:
            raise LeaderboardError(
                f"per_seed keys must be score names from scores; unknown: {', '.join(unknown)}"
            )
        self.n_examples = _count(self.n_examples, "n_examples")
        self.seconds = _non_negative(self.seconds, "seconds")
        if self.per_example is not None:
            self.per_example = _number_list(self.per_example, "per_example")
            if len(self.per_example) != self.n_examples:
                raise LeaderboardError(
                    f"per_example has {len(self.per_example)} values "
                    f"but n_examples is {self.n_examples}"
                )
        self.example_ids_hash = _optional_text(self.example_ids_hash, "example_ids_hash")
        self.extra = _json_object(self.extra, "extra")
        self.date = _date(self.date, "date")
        if self.status == "ok":
            self._check_ok()
        else:
            self._check_not_applicable()

    def _check_ok(self) -> None:
        self.main_score = _number(self.main_score, "main_score")
        if self.scores.get(self.main_score_name) != self.main_score:
            raise LeaderboardError(
                f"scores[{self.main_score_name!r}] must equal main_score {self.main_score}"
            )
        if self.reason is not None:
            raise LeaderboardError("reason is only for not_applicable results")
        if self.ci95 is not None:
            self.ci95 = _interval(self.ci95, "ci95")

    def _check_not_applicable(self) -> None:
        _text(self.reason, "reason of a not_applicable result")
        scored = [
            name
            for name in ("main_score", "ci95", "per_example")
            if getattr(self, name) is not None
        ] + [name for name in ("scores", "per_seed") if getattr(self, name)]
        if scored:
            raise LeaderboardError(
                f"a not_applicable result must have no {', '.join(scored)}"
            )

    @classmethod
    def not_applicable(
        cls,
        *,
        task: str,
        dataset: str,
        split: str,
        main_score_name: str,
        reason: str,
        seconds: float = 0.0,
    ) -> TaskResult:
        """A result recording that ``task`` cannot run on this encoder, and why."""
        return cls(
            task=task,
            dataset=dataset,
            split=split,
            main_score_name=main_score_name,
            main_score=None,
            scores={},
            n_examples=0,
            seconds=seconds,
            status="not_applicable",
            reason=reason,
        )

    @property
    def key(self) -> str:
        """The key of this result in :attr:`Entry.results`, ``"{task}/{dataset}"``."""
        return f"{self.task}/{self.dataset}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ci95"] = None if self.ci95 is None else list(self.ci95)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> TaskResult:
        return cls(**_checked_fields(cls, data, "result"))


@dataclass(kw_only=True)
class Entry:
    """One encoder on the leaderboard, with its provenance and its results.

    ``results`` maps ``"{task}/{dataset}"`` to the latest result; results that
    a re-run replaced are kept, oldest first, in ``history``.
    """

    entry_id: str
    encoder_source: str
    weights_sha256: str
    method: str | None = None
    training_config: dict[str, Any] = field(default_factory=dict)
    dataset_hashes: dict[str, str] = field(default_factory=dict)
    results: dict[str, TaskResult] = field(default_factory=dict)
    history: list[TaskResult] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    date: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        _text(self.entry_id, "entry_id")
        if isinstance(self.encoder_source, os.PathLike):
            self.encoder_source = os.fspath(self.encoder_source)
        _text(self.encoder_source, "encoder_source")
        if not isinstance(self.weights_sha256, str) or not _SHA256.fullmatch(self.weights_sha256):
            raise LeaderboardError(
                "weights_sha256 must be 64 lowercase hex digits, "
                f"got {_describe(self.weights_sha256)}"
            )
        self.method = _optional_text(self.method, "method")
        self.training_config = _json_object(self.training_config, "training_config")
        self.dataset_hashes = _text_mapping(self.dataset_hashes, "dataset_hashes")
        self.versions = _text_mapping(self.versions, "versions")
        self.results = dict(_mapping(self.results, "results"))
        for key, result in self.results.items():
            if not isinstance(result, TaskResult):
                raise LeaderboardError(f"results[{key!r}] must be a TaskResult")
            if key != result.key:
                raise LeaderboardError(f"results[{key!r}] holds a result for {result.key!r}")
        if not isinstance(self.history, list) or not all(
            isinstance(result, TaskResult) for result in self.history
        ):
            raise LeaderboardError("history must be a list of TaskResult")
        self.history = list(self.history)
        self.date = _date(self.date, "date")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["results"] = {key: result.to_dict() for key, result in self.results.items()}
        data["history"] = [result.to_dict() for result in self.history]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Entry:
        data = dict(_checked_fields(cls, data, "entry"))
        results = _mapping(data.get("results", {}), "results")
        history = data.get("history", [])
        if not isinstance(history, list):
            raise LeaderboardError(f"history must be a list, got {_describe(history)}")
        data["results"] = {}
        for key, result in results.items():
            with _within(f"results[{key!r}]"):
                data["results"][key] = TaskResult.from_dict(result)
        data["history"] = []
        for index, result in enumerate(history):
            with _within(f"history[{index}]"):
                data["history"].append(TaskResult.from_dict(result))
        return cls(**data)


@dataclass
class Leaderboard:
    """All entries of one leaderboard file, keyed by entry id."""

    entries: dict[str, Entry] = field(default_factory=dict)

    def get_entry(self, entry_id: str) -> Entry:
        """The entry ``entry_id``; an unknown id raises an error listing the known ones."""
        try:
            return self.entries[entry_id]
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise LeaderboardError(
                f"unknown entry {entry_id!r}; known entries: {known}"
            ) from None

    def add_result(self, entry_meta: Entry, result: TaskResult) -> Entry:
        """Record ``result`` for the encoder described by ``entry_meta``, in memory.

        ``entry_meta`` carries the entry's metadata only (no results or
        history). A result for the same task and dataset replaces the current
        one, which moves to ``history``. Metadata is refreshed from
        ``entry_meta``, except what identifies the encoder and its data: a
        different ``weights_sha256`` or dataset hash is an error, because mixing
        results from different weights or data under one id would be silent
        corruption. Returns the updated entry.
        """
        if not isinstance(entry_meta, Entry) or not isinstance(result, TaskResult):
            raise TypeError("add_result takes an Entry and a TaskResult")
        if entry_meta.results or entry_meta.history:
            raise LeaderboardError(
                f"entry_meta for {entry_meta.entry_id!r} must carry metadata only, "
                "not results or history"
            )
        entry = self.entries.get(entry_meta.entry_id)
        if entry is None:
            entry = dataclasses.replace(entry_meta)
            self.entries[entry.entry_id] = entry
        else:
            _refresh_metadata(entry, entry_meta)
        if result.key in entry.results:
            entry.history.append(entry.results[result.key])
        entry.results[result.key] = result
        return entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "entries": {entry_id: entry.to_dict() for entry_id, entry in self.entries.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> Leaderboard:
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise LeaderboardError(
                f'not a leaderboard file (expected a JSON object with "format": "{FORMAT_NAME}")'
            )
        version = data.get("schema_version")
        if type(version) is not int or version != SCHEMA_VERSION:
            raise LeaderboardError(
                f"unsupported schema_version {_describe(version)}; "
                f"this code reads version {SCHEMA_VERSION}"
            )
        unknown = sorted(set(data) - {"format", "schema_version", "entries"})
        if unknown:
            raise LeaderboardError(f"unknown top-level field(s): {', '.join(unknown)}")
        entries = {}
        for entry_id, entry_data in _mapping(data.get("entries"), "entries").items():
            with _within(f"entry {entry_id!r}"):
                entry = Entry.from_dict(entry_data)
                if entry.entry_id != entry_id:
                    raise LeaderboardError(f"entry_id is {entry.entry_id!r}")
            entries[entry_id] = entry
        return cls(entries=entries)


def _refresh_metadata(entry: Entry, meta: Entry) -> None:
    if meta.weights_sha256 != entry.weights_sha256:
        raise LeaderboardError(
            f"entry {entry.entry_id!r} has weights sha256 {entry.weights_sha256[:12]}…, "
            f"this result's weights are {meta.weights_sha256[:12]}…; use a new entry id"
        )
    for name, digest in meta.dataset_hashes.items():
        known = entry.dataset_hashes.get(name, digest)
        if known != digest:
            raise LeaderboardError(
                f"entry {entry.entry_id!r} was evaluated on dataset {name!r} with hash "
                f"{known[:12]}…, this result's data hash is {digest[:12]}…; use a new entry id"
            )
    entry.dataset_hashes.update(meta.dataset_hashes)
    entry.encoder_source = meta.encoder_source
    entry.method = meta.method
    entry.training_config = meta.training_config
    entry.versions = meta.versions
    entry.date = meta.date


# Validation helpers. Each returns the normalised value or raises a one-line
# LeaderboardError naming the field.


@contextmanager
def _within(where: str) -> Iterator[None]:
    """Prefix errors raised inside the block with where they happened."""
    try:
        yield
    except LeaderboardError as err:
        raise LeaderboardError(f"{where}: {err}") from None


def _describe(value: Any) -> str:
    # Short on purpose: messages must stay one line even for huge values.
    if value is None or isinstance(value, (bool, numbers.Number)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    return type(value).__name__


def _checked_fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise LeaderboardError(f"{what} must be a JSON object, got {_describe(data)}")
    fields = dataclasses.fields(cls)
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    unknown = sorted(map(str, set(data) - {f.name for f in fields}))
    missing = sorted(required - set(data))
    if unknown:
        raise LeaderboardError(f"{what} has unknown field(s): {', '.join(unknown)}")
    if missing:
        raise LeaderboardError(f"{what} lacks field(s): {', '.join(missing)}")
    return data


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise LeaderboardError(f"{name} must be a non-empty string, got {_describe(value)}")
    return value


def _optional_text(value: Any, name: str) -> str | None:
    return None if value is None else _text(value, name)


def _mapping(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise LeaderboardError(f"{name} must be a dict, got {_describe(value)}")
    return value


def _text_mapping(value: Any, name: str) -> dict[str, str]:
    return {
        _text(key, f"{name} key"): _text(text, f"{name}[{key!r}]")
        for key, text in _mapping(value, name).items()
    }


def _number(value: Any, name: str) -> float:
    # numpy scalars register as numbers.Real; bools are rejected on purpose.
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
    ):
        raise LeaderboardError(f"{name} must be a finite number, got {_describe(value)}")
    return float(value)


def _non_negative(value: Any, name: str) -> float:
    number = _number(value, name)
    if number < 0:
        raise LeaderboardError(f"{name} must be >= 0, got {number}")
    return number


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise LeaderboardError(f"{name} must be a non-negative integer, got {_describe(value)}")
    return int(value)


def _number_list(values: Any, name: str) -> list[float]:
    # Vectorised check: per-example lists can hold many thousands of values.
    # Booleans are accepted here as 0/1 (e.g. per-example correctness).
    array = None
    if isinstance(values, (list, tuple, np.ndarray)):
        try:
            array = np.asarray(values)
        except ValueError:  # ragged nesting
            pass
    if array is None or array.ndim != 1 or (array.size and array.dtype.kind not in "biuf"):
        raise LeaderboardError(f"{name} must be a flat list of numbers")
    if not np.isfinite(array).all():
        raise LeaderboardError(f"{name} must hold finite numbers only")
    return array.astype(float).tolist()


def _interval(value: Any, name: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise LeaderboardError(f"{name} must be a pair (low, high), got {_describe(value)}")
    low, high = (_number(bound, name) for bound in value)
    if low > high:
        raise LeaderboardError(f"{name} low {low} exceeds high {high}")
    return low, high


def _json_object(value: Any, name: str) -> dict[str, Any]:
    # Stored as its own JSON round trip, so what is in memory equals what a
    # reload gives (tuples become lists, keys become strings).
    try:
        return json.loads(json.dumps(_mapping(value, name), allow_nan=False))
    except (TypeError, ValueError) as err:
        raise LeaderboardError(f"{name} must be JSON-serialisable: {err}") from None


def _date(value: Any, name: str) -> str:
    try:
        datetime.fromisoformat(_text(value, name))
    except ValueError:
        raise LeaderboardError(f"{name} must be an ISO 8601 date, got {_describe(value)}") from None
    return value
