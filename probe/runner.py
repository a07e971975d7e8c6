"""`probe run-tasks`: evaluate one encoder on the chosen tasks and record every result on the leaderboard.

Tasks are grouped by dataset; each dataset is loaded once, its codes are encoded once per split (and cached
on disk), and every result - including "not applicable" ones, with their reason - goes to the leaderboard
with the encoder's provenance.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import time
from collections.abc import Callable, Iterable
from importlib import metadata

import numpy as np

from leaderboard.schema import Entry, TaskResult
from leaderboard.store import add_result
from tasks.base import Encoder, Task, TaskData
from tasks.registry import DEFAULT_TASKS, get_task
from vae.data.corpus import Corpus, file_sha256, load_corpus, locate
from vae.data.registry import SPLITS
from vae.errors import DataError, ProbeError

from .cache import CacheKey, EmbeddingCache
from .encoders import load_encoder

Log = Callable[[str], None]
VERSIONED_PACKAGES = ("probe", "torch", "transformers", "scikit-learn", "numpy", "scipy")


def run_tasks(
    encoder_spec: str | os.PathLike | Encoder,
    tasks: str | Iterable[str | Task] | None = None,
    dataset: str | None = None,
    data_dir: str | os.PathLike | None = None,
    leaderboard_path: str | os.PathLike = "leaderboard.json",
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    max_sentences: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    log: Log | None = None,
) -> list[TaskResult]:
    """Run the tasks (names, "a,b", Task objects; default: the paper's seven) on one encoder.

    `dataset` overrides every task's default dataset; `max_sentences` keeps the first N sentences of each
    split for quick runs (built-in encoders are still fitted on the whole train split, so they stay the
    same encoder). Returns the results in task order, each already added to the leaderboard file.
    """
    say = log or (lambda message: None)
    notice = say if progress else (lambda message: None)
    if max_sentences is not None and max_sentences < 1:
        raise ProbeError(f"--max-sentences must be positive, got {max_sentences}")
    selected = resolve_tasks(tasks)
    encoder = load_encoder(encoder_spec, device) if isinstance(encoder_spec, (str, os.PathLike)) else encoder_spec
    cache = EmbeddingCache(cache_dir)
    results: list[TaskResult | None] = [None] * len(selected)
    for dataset_name, positions in plan(selected, encoder, dataset).items():
        loaded = load_dataset_splits(dataset_name, data_dir, max_sentences)
        fit_encoder(encoder, loaded, notice)
        embedding = CachedEmbedding(encoder, loaded, cache, notice)
        data = TaskData(dataset=loaded.name, splits=loaded.splits, files_hash=loaded.files_hash, embed=embedding)
        entry = entry_metadata(encoder, data)
        for position in positions:
            result = run_one(selected[position], encoder, data, embedding, seed, max_sentences)
            add_result(leaderboard_path, entry, result)
            say(format_result(result))
            results[position] = result
    return results


@dataclasses.dataclass
class LoadedDataset:
    name: str
    splits: dict[str, Corpus]  # capped at max_sentences
    full_train: Corpus | None  # the whole train split, to fit built-in encoders
    split_hashes: dict[str, str]  # sha256 of each split's file
    files_hash: str  # of all of them together


class CachedEmbedding:
    """TaskData.embed: split -> codes, encoded at most once per run (memory) and across runs (disk cache)."""

    def __init__(self, encoder: Encoder, dataset: LoadedDataset, cache: EmbeddingCache, notice: Log):
        self.encoder, self.dataset, self.cache, self.notice = encoder, dataset, cache, notice
        self.codes: dict[str, np.ndarray] = {}
        self.encode_seconds = 0.0

    def __call__(self, split: str) -> np.ndarray:
        if split not in self.codes:
            corpus = self.dataset.splits[split]
            key = CacheKey(self.encoder.weights_sha256, self.dataset.split_hashes[split], split, len(corpus))
            self.codes[split] = self.cache.get_or_compute(key, lambda: self._encode(corpus))
        return self.codes[split]

    def _encode(self, corpus: Corpus) -> np.ndarray:
        started = time.perf_counter()
        codes = self.encoder.encode(corpus.sentences)
        elapsed = time.perf_counter() - started
        self.encode_seconds += elapsed
        self.notice(f"encoded {corpus.name} {corpus.split}: {len(corpus)} sentences in {elapsed:.1f}s")
        return codes


def resolve_tasks(tasks: str | Iterable[str | Task] | None) -> list[Task]:
    if tasks is None:
        tasks = DEFAULT_TASKS
    elif isinstance(tasks, str):
        tasks = [name.strip() for name in tasks.split(",") if name.strip()]
    resolved = [get_task(task) if isinstance(task, str) else task for task in tasks]
    if not resolved:
        raise ProbeError("no tasks to run")
    return resolved


def plan(tasks: list[Task], encoder: Encoder, dataset: str | None) -> dict[str, list[int]]:
    """Positions of the tasks grouped by the dataset they run on (the override, else each task's default)."""
    groups: dict[str, list[int]] = {}
    for position, task in enumerate(tasks):
        groups.setdefault(dataset or task.dataset_for(encoder), []).append(position)
    return groups


def load_dataset_splits(dataset: str, data_dir, max_sentences: int | None) -> LoadedDataset:
    """Every split the dataset has (some corpora lack one: tasks needing it are then not applicable)."""
    located, errors = {}, []
    for split in SPLITS:
        try:
            located[split] = locate(dataset, split, data_dir)[1]
        except DataError as error:
            errors.append(error)
    if not located:
        raise errors[0]
    full = {split: load_corpus(dataset, split, data_dir) for split in located}
    split_hashes = {split: file_sha256(path) for split, path in located.items()}
    files_hash = hashlib.sha256("".join(f"{s}:{h}\n" for s, h in sorted(split_hashes.items())).encode()).hexdigest()
    return LoadedDataset(
        name=next(iter(full.values())).name, splits={split: c.head(max_sentences) for split, c in full.items()},
        full_train=full.get("train"), split_hashes=split_hashes, files_hash=files_hash,
    )


def fit_encoder(encoder: Encoder, dataset: LoadedDataset, notice: Log) -> None:
    """Fit a built-in encoder on the whole train split of the dataset its tasks run on."""
    if not encoder.fits_on_train_split:
        return
    if dataset.full_train is None:
        raise ProbeError(f"{encoder.encoder_id} is fitted on a train split: dataset {dataset.name} has none")
    started = time.perf_counter()
    encoder.fit(dataset.full_train)
    notice(f"fitted {encoder.encoder_id} on {len(dataset.full_train)} train sentences in "
           f"{time.perf_counter() - started:.1f}s")


def run_one(task: Task, encoder: Encoder, data: TaskData, embedding: CachedEmbedding, seed: int,
            max_sentences: int | None) -> TaskResult:
    """The task's result, timed (encoding included), or a not-applicable result with its reason."""
    reason = task.not_applicable_reason(encoder, data)
    if reason is not None:
        return TaskResult.not_applicable(task=task.info.name, dataset=data.dataset, split=task.info.split,
                                         main_score_name=task.info.main_score, reason=reason)
    encode_seconds_before = embedding.encode_seconds
    started = time.perf_counter()
    result = task.run(encoder, data, seed=seed)
    seconds = time.perf_counter() - started
    encode_seconds = embedding.encode_seconds - encode_seconds_before
    extra = {**result.extra, "seed": seed, "max_sentences": max_sentences, "encode_seconds": round(encode_seconds, 3)}
    return dataclasses.replace(result, seconds=seconds, extra=extra)


def entry_metadata(encoder: Encoder, data: TaskData) -> Entry:
    return Entry(
        entry_id=encoder.encoder_id, encoder_source=str(encoder.source), weights_sha256=encoder.weights_sha256,
        method=encoder.method, training_config=encoder.training_config,
        dataset_hashes={data.dataset: data.files_hash}, versions=library_versions(),
    )


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def format_result(result: TaskResult) -> str:
    """One line per result: what the command line prints."""
    where = f"{result.task}/{result.dataset}"
    if result.status != "ok":
        return f"{where}: not applicable: {result.reason}"
    interval = f" [{result.ci95[0]:.4f}, {result.ci95[1]:.4f}]" if result.ci95 else ""
    return (f"{where}: {result.main_score_name} {result.main_score:.4f}{interval} "
            f"({result.n_examples} examples, {result.seconds:.1f}s)")
