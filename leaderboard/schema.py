"""The leaderboard's data model: task results, entries and the file document, as pydantic models.

The layout follows MTEB result files where that is sensible (task name, ``main_score``, a ``scores`` dict,
evaluation time, library versions) and adds what significance testing and format stability need: a bootstrap
interval, a hash of the evaluated examples for paired comparisons, and an explicit ``format`` marker and
``schema_version`` so that a foreign or newer file is rejected, never guessed at.

A result on disk is its summary. Its bulky part - ``per_example`` values and the plot/example data in
``extra`` - lives in a per-example file beside the board, named by ``examples_sha256``
(see :mod:`leaderboard.examples`); both fields are excluded from the main file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from leaderboard.errors import LeaderboardError
from leaderboard.layout import FORMAT_NAME, SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Entry", "ExampleValues", "Leaderboard", "TaskResult", "one_line", "utc_now"]

# Mark a per-example file; the board's own marker and version are in leaderboard.layout.
EXAMPLES_FORMAT_NAME = "probe-leaderboard-examples"
EXAMPLES_SCHEMA_VERSION = 2  # per-example files are immutable: their format has its own version
Plot = Literal["label-curve", "k-curve", "smoothness-scatter", "interpolations"]


def utc_now() -> str:
    """The current time as an ISO 8601 string, the format of every ``date``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _plain_int(value: Any) -> Any:
    # Integers of any kind (numpy's too), but not bools, floats or numeric strings.
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise ValueError("must be an integer")
    return int(value)


def _iso_date(value: str) -> str:
    datetime.fromisoformat(value)  # a ValueError names the bad date
    return value


def _json_round_trip(value: Any) -> Any:
    # What is in memory equals what a reload gives (tuples become lists, keys become strings).
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise ValueError(f"must be JSON-serialisable: {err}") from None


Text = Annotated[str, StringConstraints(min_length=1)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Number = Annotated[float, Strict()]  # finite (allow_inf_nan=False); refuses bools and numeric strings
NonNegative = Annotated[Number, Field(ge=0)]
Count = Annotated[int, BeforeValidator(_plain_int), Field(ge=0)]
IsoDate = Annotated[str, AfterValidator(_iso_date)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_round_trip)]


class _Model(BaseModel):
    """Strict models: unknown fields and non-finite numbers are refused.

    Building one in code with bad values raises pydantic's ValidationError (a bug in the caller); a bad file
    is reported by the store as a one-line LeaderboardError (see :func:`one_line`).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def one_line(error: ValidationError) -> str:
    """The first problem of ``error`` as ``where: what``, plus how many more there are."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


class TaskResult(_Model):
    """The outcome of one evaluation task on one dataset split for one encoder.

    ``scores`` holds every score, including ``main_score`` under ``main_score_name``; ``main_score_label``
    names it for people, ``higher_is_better`` says which way is better (None for a descriptive score),
    ``plot`` which figure the report draws from ``extra``. ``per_seed`` is keyed by score name (a subset of
    ``scores``) and holds that score's value for each seed. ``score_ci95`` holds the 95% intervals of other
    scores than the main one, where the task measured them per example (noisy-recon's k columns).
    ``per_example`` holds the main metric for each of the ``n_examples`` examples and, with
    ``example_ids_hash``, enables paired comparison between encoders.
    ``extra`` is free-form JSON for plots and examples. A result with ``status="not_applicable"`` carries a
    ``reason`` and no scores; build it with :meth:`TaskResult.not_applicable`.

    ``per_example`` and ``extra`` are held in memory by a task's result; a result read from a board has them
    empty and names their per-example file by ``examples_sha256`` (load it with
    :func:`leaderboard.store.load_examples`).
    """

    task: Text
    dataset: Text
    split: Text
    main_score_name: Text
    main_score_label: Text | None = None  # None in results written before schema version 2
    higher_is_better: bool | None = None
    plot: Plot | None = None
    paper_ref: Text | None = None
    main_score: Number | None = None  # None only for not_applicable results
    scores: dict[Text, Number]
    per_seed: dict[Text, list[Number]] = Field(default_factory=dict)
    ci95: tuple[Number, Number] | None = None
    score_ci95: dict[Text, tuple[Number, Number]] = Field(default_factory=dict)
    n_examples: Count
    seconds: NonNegative
    example_ids_hash: Text | None = None
    examples_sha256: Sha256 | None = None
    status: Literal["ok", "not_applicable"] = "ok"
    reason: Text | None = None
    max_sentences: Annotated[Count, Field(ge=1)] | None = None  # a quick run: the first N sentences of each split
    date: IsoDate = Field(default_factory=utc_now)
    per_example: list[Number] | None = Field(default=None, exclude=True)
    extra: JsonObject = Field(default_factory=dict, exclude=True)

    @field_validator("per_example", mode="before")
    @classmethod
    def _plain_floats(cls, values: Any) -> Any:
        # numpy arrays and 0/1 correctness as bools are welcome; checked as plain floats afterwards.
        if hasattr(values, "dtype") and hasattr(values, "tolist"):
            if values.ndim != 1 or values.dtype.kind not in "biuf":
                raise ValueError("must be a flat list of numbers")
            return values.astype(float).tolist()
        if isinstance(values, (list, tuple)):
            return [float(value) if isinstance(value, bool) else value for value in values]
        return values

    @model_validator(mode="after")
    def _consistent(self) -> TaskResult:
        unknown = sorted(set(self.per_seed) - set(self.scores))
        if unknown:
            raise ValueError(f"per_seed keys must be score names from scores; unknown: {', '.join(unknown)}")
        if self.per_example is not None and len(self.per_example) != self.n_examples:
            raise ValueError(f"per_example has {len(self.per_example)} values but n_examples is {self.n_examples}")
        if self.ci95 is not None and self.ci95[0] > self.ci95[1]:
            raise ValueError(f"ci95 low {self.ci95[0]} exceeds high {self.ci95[1]}")
        unknown = sorted(set(self.score_ci95) - set(self.scores))
        if unknown:
            raise ValueError(f"score_ci95 keys must be score names from scores; unknown: {', '.join(unknown)}")
        for name, (low, high) in self.score_ci95.items():
            if low > high:
                raise ValueError(f"score_ci95[{name!r}] low {low} exceeds high {high}")
        if self.status == "ok":
            if self.main_score is None or self.scores.get(self.main_score_name) != self.main_score:
                raise ValueError(f"scores[{self.main_score_name!r}] must equal main_score {self.main_score}")
            if self.reason is not None:
                raise ValueError("reason is only for not_applicable results")
        else:
            if self.reason is None:
                raise ValueError("a not_applicable result needs a reason")
            scored = [name for name in ("main_score", "ci95", "per_example") if getattr(self, name) is not None]
            scored += [name for name in ("scores", "per_seed", "score_ci95") if getattr(self, name)]
            if scored:
                raise ValueError(f"a not_applicable result must have no {', '.join(scored)}")
        return self

    @classmethod
    def not_applicable(cls, *, task: str, dataset: str, split: str, main_score_name: str, reason: str,
                       seconds: float = 0.0, **metadata: Any) -> TaskResult:
        """A result recording that ``task`` cannot run on this encoder, and why (``metadata``: the task's
        ``main_score_label``, ``higher_is_better``, ``plot``, ``paper_ref``)."""
        return cls(task=task, dataset=dataset, split=split, main_score_name=main_score_name, main_score=None,
                   scores={}, n_examples=0, seconds=seconds, status="not_applicable", reason=reason, **metadata)

    @property
    def key(self) -> str:
        """The key of this result in :attr:`Entry.results`, ``"{task}/{dataset}"``."""
        return f"{self.task}/{self.dataset}"

    @property
    def has_inline_examples(self) -> bool:
        """Whether this result holds per-example values or extra data in memory, still to be stored."""
        return self.per_example is not None or bool(self.extra)


class Entry(_Model):
    """One encoder on the leaderboard, with its provenance and its results.

    ``results`` maps ``"{task}/{dataset}"`` to the latest result; results that a re-run replaced are kept,
    oldest first, in ``history`` (summaries and the sha256 of their per-example files, no values).
    """

    entry_id: Text
    encoder_source: Annotated[Text, BeforeValidator(lambda path: os.fspath(path) if isinstance(path, os.PathLike)
                                                     else path)]
    weights_sha256: Sha256
    method: Text | None = None
    training_config: JsonObject = Field(default_factory=dict)
    dataset_hashes: dict[Text, Text] = Field(default_factory=dict)
    results: dict[str, TaskResult] = Field(default_factory=dict)
    history: list[TaskResult] = Field(default_factory=list)
    versions: dict[Text, Text] = Field(default_factory=dict)
    date: IsoDate = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _keyed_by_task(self) -> Entry:
        for key, result in self.results.items():
            if key != result.key:
                raise ValueError(f"results[{key!r}] holds a result for {result.key!r}")
        return self


class Leaderboard(_Model):
    """All entries of one leaderboard file, keyed by entry id; ``path`` is the file it was read from."""

    format: Literal["probe-leaderboard"] = FORMAT_NAME
    schema_version: Literal[3] = SCHEMA_VERSION
    entries: dict[str, Entry] = Field(default_factory=dict)
    _path: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _keyed_by_id(self) -> Leaderboard:
        for entry_id, entry in self.entries.items():
            if entry.entry_id != entry_id:
                raise ValueError(f"entry {entry_id!r} has entry_id {entry.entry_id!r}")
        return self

    @property
    def path(self) -> str | None:
        """The file this board was read from (its per-example files lie beside it), None if built in memory."""
        return self._path

    def get_entry(self, entry_id: str) -> Entry:
        """The entry ``entry_id``; an unknown id raises an error listing the known ones."""
        try:
            return self.entries[entry_id]
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise LeaderboardError(f"unknown entry {entry_id!r}; known entries: {known}") from None

    def add_result(self, entry_meta: Entry, result: TaskResult) -> Entry:
        """Record ``result`` for the encoder described by ``entry_meta``, in memory.

        ``entry_meta`` carries the entry's metadata only (no results or history). A result for the same task
        and dataset replaces the current one, which moves to ``history``. Metadata is refreshed from
        ``entry_meta``, except what identifies the encoder and its data: a different ``weights_sha256`` or
        dataset hash is an error, because mixing results from different weights or data under one id would be
        silent corruption. Returns the updated entry.
        """
        if not isinstance(entry_meta, Entry) or not isinstance(result, TaskResult):
            raise TypeError("add_result takes an Entry and a TaskResult")
        if entry_meta.results or entry_meta.history:
            raise LeaderboardError(
                f"entry_meta for {entry_meta.entry_id!r} must carry metadata only, not results or history")
        entry = self.entries.get(entry_meta.entry_id)
        if entry is None:
            entry = self.entries[entry_meta.entry_id] = entry_meta.model_copy(deep=True)
        else:
            _refresh_metadata(entry, entry_meta)
        if result.key in entry.results:
            entry.history.append(entry.results[result.key])
        entry.results[result.key] = result
        return entry


class ExampleValues(_Model):
    """What a result's per-example file holds: its ``per_example`` values (None if the task keeps none) and
    its ``extra`` data (plots, decoded examples)."""

    format: Literal["probe-leaderboard-examples"] = EXAMPLES_FORMAT_NAME
    schema_version: Literal[2] = EXAMPLES_SCHEMA_VERSION
    per_example: list[Number] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


def _refresh_metadata(entry: Entry, meta: Entry) -> None:
    if meta.weights_sha256 != entry.weights_sha256:
        raise LeaderboardError(
            f"entry {entry.entry_id!r} has weights sha256 {entry.weights_sha256[:12]}…, "
            f"this result's weights are {meta.weights_sha256[:12]}…; use a new entry id")
    for name, digest in meta.dataset_hashes.items():
        known = entry.dataset_hashes.get(name, digest)
        if known != digest:
            raise LeaderboardError(
                f"entry {entry.entry_id!r} was evaluated on dataset {name!r} with hash {known[:12]}…, "
                f"this result's data hash is {digest[:12]}…; use a new entry id")
    entry.dataset_hashes.update(meta.dataset_hashes)
    entry.encoder_source = meta.encoder_source
    entry.method = meta.method
    entry.training_config = meta.training_config
    entry.versions = meta.versions
    entry.date = meta.date

