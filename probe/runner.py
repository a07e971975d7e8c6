"""`probe run-tasks`: evaluate one encoder on the chosen tasks and record every result on the leaderboard.

Tasks are grouped by dataset (the encoder's own training corpus, else the paper's, unless --dataset says);
each dataset is loaded once, its codes are encoded once per split (and cached on disk), and every result -
including "not applicable" ones, with their reason - goes to the leaderboard with the encoder's provenance.
The leaderboard is read and the entry checked before any work.

The runner, not the task, times each task and builds its record (`build_record`): a task declares its
metadata (tasks.base.TaskInfo) and returns plain numbers (tasks.base.TaskOutput).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from leaderboard.bootstrap import bootstrap_ci, student_t_interval
from leaderboard.direction import arrow
from leaderboard.errors import LeaderboardError
from leaderboard.schema import Entry, Leaderboard, TaskResult
from leaderboard.store import add_result, check_writable
from probe_common.errors import DataError, ProbeError
from probe_common.hashing import bytes_sha256, file_sha256
from probe_common.versions import installed_version
from tasks.base import DEFAULT_BOOTSTRAP_UNIT, Encoder, NotApplicable, Task, TaskData, TaskOutput
from tasks.dataset_choice import split_files_for
from tasks.registry import DEFAULT_TASKS, get_task
from vae.data.corpus import Corpus, SplitFiles, load_corpus, locate
from vae.data.registry import SPLITS
from vae.metrics import LMMetrics

from .cache import CacheKey, EmbeddingCache
from .cross_corpus import CorpusCheck
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
    entry_id: str | None = None,
    split_files: SplitFiles | None = None,
    task_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[TaskResult]:
    """Run the tasks (names, "a,b", Task objects; default: the paper's seven) on one encoder.

    `task_options` gives options by task name, as values: {"lm": {"iw_samples": 100}, "gmm-cluster":
    {"one2one": True}} makes each named task with tasks.registry.get_task(name, **options); an unknown option
    is an error before any work. Options of a task that is not run are ignored.

    Each task runs on the encoder's own training corpus when it records one, else on the paper's dataset of
    the task; `dataset` overrides both (a result on another corpus than the encoder's is marked cross-corpus).
    `max_sentences` keeps the first N sentences of each split for quick runs (built-in encoders are still
    fitted on the whole train split, so they stay the same encoder). `entry_id` names the leaderboard entry
    (default: the encoder's id). `split_files` ({"valid": path, "test": path}, the --valid/--test options) replace
    the dataset's own files of those splits; a run trained on a file is probed with the valid and test files it
    recorded. The leaderboard is read and checked for an entry-id clash before any encoding, so a broken file or
    a clash costs no work. Returns the results in task order, each already added to the leaderboard file.
    """
    say = log or (lambda message: None)
    notice = say if progress else (lambda message: None)
    if max_sentences is not None and max_sentences < 1:
        raise ProbeError(f"--max-sentences must be positive, got {max_sentences}")
    if entry_id is not None and not entry_id.strip():
        raise ProbeError("--entry-id must not be empty")
    selected = resolve_tasks(tasks, task_options)
    board = check_writable(leaderboard_path)  # a broken file, a folder or a read-only disk fails now, not later
    encoder = load_encoder(encoder_spec, device) if isinstance(encoder_spec, (str, os.PathLike)) else encoder_spec
    cache = EmbeddingCache(cache_dir)
    groups = plan(selected, encoder, dataset)
    split_files = {split: file for split, file in (split_files or {}).items() if file is not None}
    if split_files and len(groups) > 1:
        raise ProbeError(f"--valid/--test name files of one dataset, but the tasks run on {', '.join(groups)}: "
                         f"pass --dataset too")
    loaded_datasets = {name: load_dataset_splits(name, data_dir, max_sentences,
                                                 split_files_for(encoder, name, split_files)) for name in groups}
    check_entry_clashes(board, leaderboard_path, encoder, loaded_datasets.values(), entry_id)
    results: list[TaskResult | None] = [None] * len(selected)
    for dataset_name, positions in groups.items():
        loaded = loaded_datasets[dataset_name]
        fit_encoder(encoder, loaded, notice)
        embedding = CachedEmbedding(encoder, loaded, cache, notice)
        data = TaskData(dataset=loaded.name, splits=loaded.splits, files_hash=loaded.files_hash, embed=embedding,
                        embed_file=embedding.embed_file)
        entry = entry_metadata(encoder, loaded.name, loaded.files_hash, entry_id)
        corpus_check = CorpusCheck.of(encoder, loaded.name, loaded.splits)
        for position in positions:
            result = run_one(selected[position], encoder, data, seed, max_sentences, embedding, corpus_check)
            add_result(leaderboard_path, entry, result)
            say(format_result(result))
            results[position] = result
    return results


def record_run_lm_metrics(
    run_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    leaderboard_path: str | os.PathLike = "leaderboard.json",
    entry_id: str | None = None,
    log: Log | None = None,
) -> TaskResult:
    """Record a trained run's own test metrics (its metrics.json, which train-vae scored with the preset's
    importance samples) as the run's `lm` result, without scoring the test split again: the language-modelling
    tables of `probe reproduce` show these numbers, so the leaderboard holds the same ones.

    The record is the `lm` task's (same scores, direction and paper reference), built by build_record like any
    other; a test split that the preset capped is marked as a quick run (max_sentences)."""
    run_dir = Path(run_dir)
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise ProbeError(f"{run_dir}: no metrics.json (the run has not finished training)")
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    board = check_writable(leaderboard_path)
    encoder = load_encoder(run_dir)
    task = get_task("lm", iw_samples=int(metrics["iw_samples"]))
    loaded = load_dataset_splits(metrics["dataset"], data_dir, None, split_files_for(encoder, metrics["dataset"], {}))
    check_entry_clashes(board, leaderboard_path, encoder, [loaded], entry_id)
    test = loaded.splits["test"]
    scored = test.head(metrics["n_sentences"])  # train-vae scores the first N test sentences (its preset's cap)
    output = task.output_of(LMMetrics(**{field.name: metrics[field.name] for field in dataclasses.fields(LMMetrics)
                                         if field.name in metrics}), scored.sentences)
    output.extra["scored_by"] = "train-vae at the end of training (the run's metrics.json)"
    capped = len(scored) < len(test)
    seed = int(encoder.training_config.get("seed", 0))
    result = build_record(task, loaded.name, output, seconds=metrics.get("seconds") or 0.0, seed=seed,
                          run_extra={"seed": seed}, max_sentences=len(scored) if capped else None)
    add_result(leaderboard_path, entry_metadata(encoder, loaded.name, loaded.files_hash, entry_id), result)
    (log or (lambda message: None))(format_result(result))
    return result


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
        self.file_codes: dict[Path, np.ndarray] = {}
        self.encode_seconds = 0.0

    def __call__(self, split: str) -> np.ndarray:
        if split not in self.codes:
            corpus = self.dataset.splits[split]
            key = CacheKey(self.encoder.weights_sha256, self.dataset.split_hashes[split], split, len(corpus))
            self.codes[split] = self.cache.get_or_compute(key, lambda: self._encode(corpus))
        return self.codes[split]

    def embed_file(self, corpus: Corpus) -> np.ndarray:
        """TaskData.embed_file: codes of a corpus read from another file (few-label's released subsets)."""
        if corpus.path not in self.file_codes:
            key = CacheKey(self.encoder.weights_sha256, file_sha256(corpus.path), corpus.path.name, len(corpus))
            self.file_codes[corpus.path] = self.cache.get_or_compute(key, lambda: self._encode(corpus))
        return self.file_codes[corpus.path]

    def _encode(self, corpus: Corpus) -> np.ndarray:
        started = time.perf_counter()
        codes = self.encoder.encode(corpus.sentences)
        elapsed = time.perf_counter() - started
        self.encode_seconds += elapsed
        self.notice(f"encoded {corpus.name} {corpus.split}: {len(corpus)} sentences in {elapsed:.1f}s")
        return codes


def resolve_tasks(tasks: str | Iterable[str | Task] | None,
                  task_options: Mapping[str, Mapping[str, Any]] | None = None) -> list[Task]:
    """Task objects for names (made with their options) and Task objects (kept as they are)."""
    if tasks is None:
        tasks = DEFAULT_TASKS
    elif isinstance(tasks, str):
        tasks = [name.strip() for name in tasks.split(",") if name.strip()]
    options = task_options or {}
    resolved = [get_task(task, **options.get(task, {})) if isinstance(task, str) else task for task in tasks]
    if not resolved:
        raise ProbeError("no tasks to run")
    return resolved


def plan(tasks: list[Task], encoder: Encoder, dataset: str | None) -> dict[str, list[int]]:
    """Positions of the tasks grouped by the dataset they run on (the override, else each task's default)."""
    groups: dict[str, list[int]] = {}
    for position, task in enumerate(tasks):
        groups.setdefault(dataset or task.dataset_for(encoder), []).append(position)
    return groups


def load_dataset_splits(dataset: str, data_dir, max_sentences: int | None,
                        split_files: SplitFiles | None = None) -> LoadedDataset:
    """Every split the dataset has (some corpora lack one: tasks needing it are then not applicable).

    A split given in `split_files` must load: a bad file named on purpose is an error, not a missing split.
    """
    given = {split for split, file in (split_files or {}).items() if file is not None}
    located, errors = {}, []
    for split in SPLITS:
        try:
            located[split] = locate(dataset, split, data_dir, split_files)[1]
        except DataError as error:
            if split in given:
                raise
            errors.append(error)
    if not located:
        raise errors[0]
    full = {split: load_corpus(dataset, split, data_dir, split_files) for split in located}
    split_hashes = {split: file_sha256(path) for split, path in located.items()}
    files_hash = bytes_sha256("".join(f"{s}:{h}\n" for s, h in sorted(split_hashes.items())).encode())
    return LoadedDataset(
        name=next(iter(full.values())).name, splits={split: c.head(max_sentences) for split, c in full.items()},
        full_train=full.get("train"), split_hashes=split_hashes, files_hash=files_hash,
    )


def fit_encoder(encoder: Encoder, dataset: LoadedDataset, notice: Log) -> None:
    """Fit a built-in encoder on the whole train split of the dataset its tasks run on."""
    if not encoder.fits_on_train_split:
        return
    full_train(encoder, dataset)
    started = time.perf_counter()
    encoder.fit(dataset.full_train)
    notice(f"fitted {encoder.encoder_id} on {len(dataset.full_train)} train sentences in "
           f"{time.perf_counter() - started:.1f}s")


def run_one(task: Task, encoder: Encoder, data: TaskData, seed: int = 0, max_sentences: int | None = None,
            embedding: CachedEmbedding | None = None, corpus_check: CorpusCheck | None = None) -> TaskResult:
    """The task's record, timed here (encoding included), or a not-applicable record with its reason."""
    reason = task.not_applicable_reason(encoder, data)
    if reason is not None:
        return build_record(task, data.dataset, NotApplicable(reason), max_sentences=max_sentences)
    encode_seconds_before = embedding.encode_seconds if embedding is not None else 0.0
    started = time.perf_counter()
    output = task.run(encoder, data, seed=seed)
    seconds = time.perf_counter() - started
    encode_seconds = (embedding.encode_seconds if embedding is not None else 0.0) - encode_seconds_before
    run_extra = {"seed": seed, "max_sentences": max_sentences, "encode_seconds": round(encode_seconds, 3)}
    if encoder.fits_on_train_split:  # a built-in: what it was fitted on for this result
        run_extra["fitted_on"] = encoder.fitted_on
    if corpus_check is not None:
        run_extra.update(corpus_check.marks(task, data))
    return build_record(task, data.dataset, output, seconds=seconds, seed=seed, run_extra=run_extra,
                        max_sentences=max_sentences)


def build_record(task: Task, dataset: str, outcome: TaskOutput | NotApplicable, *, seconds: float = 0.0,
                 seed: int = 0, run_extra: Mapping[str, Any] | None = None,
                 max_sentences: int | None = None) -> TaskResult:
    """The leaderboard record of a task on a dataset: the one place where a task's metadata (TaskInfo) and its
    output (TaskOutput) become a leaderboard.schema.TaskResult.

    The record carries the task's declared direction, label, plot and paper reference, so the leaderboard
    (show, compare, render) reads them from the file without importing tasks. Its 95% interval is the
    task's own, else the Student-t interval over the main score's seeds when it is a mean over seeds (few-label's
    label draws, gmm-cluster's fits), else a bootstrap (`task.n_resamples`, seeded with the run's seed) of the
    mean of the main score's per-example values. Other scores with per-example values get a bootstrap interval
    each, in `score_ci95`.
    """
    info = task.info
    declared = dict(task=info.name, dataset=dataset, split=info.split, main_score_name=info.main_score,
                    higher_is_better=info.higher_is_better, main_score_label=info.main_score_label,
                    plot=info.plot, paper_ref=info.paper_ref, max_sentences=max_sentences)
    if isinstance(outcome, NotApplicable):
        return TaskResult.not_applicable(**declared, reason=outcome.reason, seconds=seconds)
    if info.main_score not in outcome.scores:
        raise ValueError(f"{info.name} returned no {info.main_score!r} score (its declared main score)")
    main_score = outcome.scores[info.main_score]
    per_example = (outcome.per_example or {}).get(info.main_score)
    ci95 = outcome.ci95
    repeats = (outcome.per_seed or {}).get(info.main_score) or []
    if ci95 is None and len(repeats) >= 2:  # a mean over seeds: their spread, which one run's examples do not show
        ci95 = student_t_interval(repeats)
    score_ci95 = {}  # of the other scores measured per example (noisy-recon's k columns)
    for name, values in (outcome.per_example or {}).items():
        main = name == info.main_score
        # Comparisons resample these values as stand-ins for their score: their mean must be it.
        if values and not math.isclose(sum(values) / len(values), outcome.scores[name], rel_tol=1e-9,
                                       abs_tol=1e-12):
            raise ValueError(f"{info.name}: the mean of the per-example {name} is not "
                             f"{'the main score' if main else 'its score'}")
        if len(values) >= 2 and not (main and ci95 is not None):
            interval = bootstrap_ci(values, n_resamples=task.n_resamples, seed=seed)
            if main:
                ci95 = interval
            else:
                score_ci95[name] = interval
    return TaskResult(**declared, main_score=main_score, scores=outcome.scores, per_seed=outcome.per_seed or {},
                      ci95=ci95, score_ci95=score_ci95, n_examples=outcome.n_examples, seconds=seconds,
                      per_example=per_example,
                      example_ids_hash=outcome.examples_hash,
                      extra={**outcome.extra, **({"per_seed_unit": info.per_seed_unit} if outcome.per_seed else {}),
                             **({"bootstrap_unit": info.bootstrap_unit}
                                if info.bootstrap_unit != DEFAULT_BOOTSTRAP_UNIT else {}),
                             **(run_extra or {})})


def full_train(encoder: Encoder, dataset: LoadedDataset) -> Corpus:
    if dataset.full_train is None:
        raise ProbeError(f"{encoder.encoder_id} is fitted on a train split: dataset {dataset.name} has none")
    return dataset.full_train


def entry_metadata(encoder: Encoder, dataset: str, files_hash: str, entry_id: str | None = None) -> Entry:
    return Entry(
        entry_id=entry_id or encoder.encoder_id, encoder_source=str(encoder.source),
        weights_sha256=encoder.entry_sha256, method=encoder.method, training_config=encoder.training_config,
        dataset_hashes={dataset: files_hash}, versions=library_versions(),
    )


def check_entry_clashes(board: Leaderboard, path, encoder: Encoder, datasets: Iterable[LoadedDataset],
                        entry_id: str | None) -> None:
    """Raise now the clash that recording the results would raise after the work: an entry id already holding
    other weights, or results on another version of a dataset. Replays the recording on the in-memory board."""
    for dataset in datasets:
        if encoder.fits_on_train_split:
            full_train(encoder, dataset)  # a dataset without a train split fails now
        meta = Entry(entry_id=entry_id or encoder.encoder_id, encoder_source=str(encoder.source),
                     weights_sha256=encoder.entry_sha256,
                     method=encoder.method, training_config=encoder.training_config,
                     dataset_hashes={dataset.name: dataset.files_hash})
        placeholder = TaskResult.not_applicable(task="run-tasks", dataset=dataset.name, split="test",
                                                main_score_name="none", reason="checking the entry before any task")
        try:
            board.add_result(meta, placeholder)
        except LeaderboardError as error:
            raise LeaderboardError(f"{path}: {error} (run-tasks --entry-id NAME records under another id); "
                                   f"no task was run") from None


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        versions[package] = installed_version(package)
    return versions


def format_result(result: TaskResult) -> str:
    """One line per result: what the command line prints."""
    where = f"{result.task}/{result.dataset}"
    if result.status != "ok":
        return f"{where}: not applicable: {result.reason}"
    interval = f" [{result.ci95[0]:.4f}, {result.ci95[1]:.4f}]" if result.ci95 else ""
    name = f"{result.main_score_name} {arrow(result.higher_is_better)}".rstrip()  # e.g. "ppl ↓"
    line = (f"{where}: {name} {result.main_score:.4f}{interval} "
            f"({result.n_examples} examples, {result.seconds:.1f}s)")
    if result.extra.get("cross_corpus"):
        oov = result.extra.get("oov_rate")
        line += (f" [cross-corpus: encoder trained on {result.extra['trained_on']}"
                 f"{f', {oov:.1%} of words out of its vocabulary' if oov is not None else ''}]")
    return line
