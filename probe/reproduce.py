"""`probe reproduce TABLE`: the paper's table → its rows → one training run per row and seed → scores → report.

Each row of a table is the paper's label with the `--method` and `--lam` that train it (TABLES). Every row and
seed trains into OUT/runs/DATASET-METHOD[-lamLAM]-seedSEED (a finished run is reused, an interrupted one resumed);
its scores come from the tasks (recorded on OUT/leaderboard.json and kept beside in OUT/scores/) or from the
run's metrics.json; the report sets our number beside the paper's (probe/paper_numbers.py) for every cell.
vae/ and the tasks are imported where they are used: `probe --help` and `probe leaderboard` stay fast.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from leaderboard.bootstrap import student_t_interval
from probe_common import atomic
from probe_common.errors import ProbeError
from probe_common.quick_runs import shortened_training

from .paper_numbers import paper_cell

Log = Callable[[str], None]
FIRST_SEED = 783435  # vae.presets.DEFAULT_SEED, the authors' (not imported: that would load vae/)


# ---- what a table is ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    label: str  # the paper's row label (as in probe/paper_numbers.py)
    key: str  # what --rows names it by
    method: str  # --method of probe train-vae; for a built-in row, the encoder (run-tasks --encoder)
    lam: float | None = None  # --lam; None for methods without a target rate
    builtin: bool = False  # a built-in reference encoder: not in the paper, fitted on the train split, not trained

    @property
    def flags(self) -> str:
        if self.builtin:
            return f"run-tasks --encoder {self.method} (built-in, not trained)"
        return f"--method {self.method}" + (f" --lam {self.lam:g}" if self.lam is not None else "")


@dataclass(frozen=True)
class Column:
    label: str  # the paper's column label
    score: str  # our score's name: a task's score, or a key of the run's metrics.json
    task: str | None = None  # None: the score is read from metrics.json
    higher_is_better: bool | None = None  # None: descriptive (the paper marks no direction)
    scale: float = 1.0  # ours × scale is in the paper's unit (accuracy → %)
    decimals: int = 2  # as the paper prints the column
    paper_table: str | None = None  # where the paper prints it, when not in the table's own (tables4-6)

    @property
    def name(self) -> str:
        """How the report names the score, with its direction: "few-label 100 ↑"."""
        arrow = {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]
        source = f"{self.task} {self.score}" if self.task else f"metrics.json {self.score}"
        return source + arrow + (" (×100)" if self.scale == 100 else "")


@dataclass(frozen=True)
class TableSpec:
    name: str  # the TABLE argument
    paper_table: str  # as PaperCell.table
    title: str
    dataset: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    section: str | None = None  # as PaperCell.section

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(column.task for column in self.columns if column.task))


AE_ROW = Row("AE", "ae", "ae")
BASELINES = (Row("VAE", "vae", "vae"), Row("+ anneal", "anneal", "anneal"), Row("+ cyclic", "cyclic", "cyclic"),
             Row("+ aggressive", "aggressive", "aggressive"))
# Tables 4-6 share their rows: the paper's SNLI models.
SNLI_ROWS = (AE_ROW, *BASELINES, Row("+ FBP (λ = 7)", "fbp", "fbp", 7.0),
             Row("Ours (λ = 4)", "ours", "pretrain-fb", 4.0))
BUILTIN_NOTE = ("A reference row (built-in) is not in the paper and is not trained: it is fitted on the whole "
                "train split, whatever the trained rows' sentence cap.")
LABEL_SIZES = {"100": "100", "500": "500", "1k": "1000", "2k": "2000", "10k": "10000"}  # column -> few-label score
# The language-modelling tables' columns, read from each run's metrics.json.
LM_COLUMNS = (Column("PPL", "ppl", None, False), Column("Recon", "recon", None, False),
              Column("AU", "au", None, True, decimals=0), Column("KL", "kl", None, None),
              Column("-ELBO", "neg_elbo", None, False))
# Table 10: NLL, MI and the ELBO's perplexity besides Table 3's columns, in the paper's order.
_LM_COLUMN = {column.label: column for column in (*LM_COLUMNS, Column("NLL", "nll", None, False),
                                                  Column("MI", "mi", None, True),
                                                  Column("ELBO PPL", "elbo_ppl", None, False))}
TABLE10_COLUMNS = tuple(_LM_COLUMN[label] for label in ("NLL", "PPL", "Recon", "MI", "AU", "-ELBO", "ELBO PPL", "KL"))


def table10_rows(ptb: bool) -> tuple[Row, ...]:
    """Table 10's rows of a block: every FBP and Ours target rate from 9 to 2; the PTB block also has the
    pretrained-encoder rows and IWAE."""
    pretraining = (Row("+ pretrained enc", "pretrain-elbo", "pretrain"),
                   Row("+ anneal enc", "pretrain-anneal", "pretrain-anneal")) if ptb else ()
    iwae = (Row("IWAE (k = 10)", "iwae", "iwae"),) if ptb else ()
    return (Row("LSTM-LM", "lm", "lm"), AE_ROW, *BASELINES[:3], Row("+ cyclic (SGD)", "cyclic-sgd", "cyclic-sgd"),
            BASELINES[3], *pretraining,
            *(Row(f"+ FBP (λ = {lam})", f"fbp-lam{lam}", "fbp", float(lam)) for lam in range(9, 1, -1)),
            *iwae,
            *(Row(f"Ours (λ = {lam})", f"ours-lam{lam}", "pretrain-fb", float(lam)) for lam in range(9, 1, -1)))


# Tables 4-6 (SNLI): one column each for Tables 4 and 5, one per number of word swaps for Table 6.
SNLI_COLUMNS = {"Table 4": (Column("BLEU", "bleu", "recon-bleu", True),),
                "Table 5": (Column("PCC", "pcc", "smoothness", True, decimals=3),),
                "Table 6": tuple(Column(str(k), f"k{k}", "noisy-recon", False) for k in (1, 2, 3, 4))}

TABLES: dict[str, TableSpec] = {spec.name: spec for spec in (
    TableSpec("table8", "Table 8", "Accuracy on Yelp of unsupervised (0 labels) and supervised classification",
              "yelp", (AE_ROW, *BASELINES, Row("+ FBP (λ = 9)", "fbp", "fbp", 9.0),
                       Row("Ours (λ = 6)", "ours", "pretrain-fb", 6.0),
                       # The floor a learned code must beat (not in the paper): words alone, no training.
                       Row("tfidf-svd (reference)", "tfidf-svd", "tfidf-svd", builtin=True)),
              (Column("0", "accuracy", "gmm-cluster", True, 100.0, 1),
               *(Column(label, score, "few-label", True, 100.0, 1) for label, score in LABEL_SIZES.items()))),
    TableSpec("table1", "Table 1", "The baselines on the PTB test set", "ptb",
              (AE_ROW, *BASELINES, Row("+ FBP (λ = 7)", "fbp-lam7", "fbp", 7.0),
               Row("+ FBP (λ = 3)", "fbp-lam3", "fbp", 3.0), Row("+ FB (λ = 7)", "fb-lam7", "fb", 7.0),
               Row("+ FB (λ = 3)", "fb-lam3", "fb", 3.0)),
              LM_COLUMNS),
    TableSpec("table2", "Table 2", "Encoder pretraining on the PTB test set", "ptb",
              (AE_ROW, BASELINES[0], Row("+ pretrain", "pretrain-elbo", "pretrain"),
               Row("+ pretrain + anneal", "pretrain-anneal", "pretrain-anneal")),
              LM_COLUMNS),
    TableSpec("table3", "Table 3", "Language modelling on the PTB test set", "ptb",
              (Row("LSTM-LM", "lm", "lm"), *BASELINES, Row("+ FBP (λ = 3)", "fbp-lam3", "fbp", 3.0),
               Row("+ FBP (λ = 2)", "fbp-lam2", "fbp", 2.0), Row("Ours (λ = 8)", "ours-lam8", "pretrain-fb", 8.0),
               Row("Ours (λ = 6)", "ours-lam6", "pretrain-fb", 6.0),
               Row("Ours (λ = 4)", "ours-lam4", "pretrain-fb", 4.0)),
              LM_COLUMNS, section="PTB"),
    TableSpec("table10-ptb", "Table 10", "Language modelling on the PTB test set, every target rate", "ptb",
              table10_rows(ptb=True), TABLE10_COLUMNS, section="PTB"),
    TableSpec("table10-snli", "Table 10", "Language modelling on the SNLI test set, every target rate", "snli",
              table10_rows(ptb=False), TABLE10_COLUMNS, section="SNLI"),
    # The three SNLI tables share their models: one command trains them once and reports all three.
    TableSpec("tables4-6", "Tables 4–6", "Reconstruction BLEU, smoothness and noisy reconstruction on SNLI", "snli",
              SNLI_ROWS, tuple(dataclasses.replace(column, paper_table=table)
                               for table, columns in SNLI_COLUMNS.items() for column in columns)),
    TableSpec("table4", "Table 4", "Reconstruction BLEU on SNLI", "snli", SNLI_ROWS, SNLI_COLUMNS["Table 4"]),
    TableSpec("table5", "Table 5", "Smoothness of the latent space on SNLI", "snli", SNLI_ROWS,
              SNLI_COLUMNS["Table 5"]),
    TableSpec("table6", "Table 6", "Noisy reconstruction loss on SNLI", "snli", SNLI_ROWS, SNLI_COLUMNS["Table 6"]),
)}
# Other names a table answers to: Table 3's PTB block is the one this tool trains (there is no Yahoo train split).
TABLE_ALIASES = {"table3-ptb": "table3"}


def get_table(name: str) -> TableSpec:
    key = TABLE_ALIASES.get(name.lower(), name.lower())
    if key not in TABLES:
        raise ProbeError(f"unknown table {name!r}; choose one of {', '.join([*TABLES, *TABLE_ALIASES])}")
    return TABLES[key]


def select_rows(spec: TableSpec, names: Sequence[str] | None) -> tuple[Row, ...]:
    """The rows named (a key, or a prefix before "-": "ours" is every ours-lamN row); all when none are named."""
    if not names:
        return spec.rows
    chosen = []
    for name in names:
        matched = [row for row in spec.rows if row.key == name or row.key.startswith(f"{name}-")]
        if not matched:
            raise ProbeError(f"--rows {name}: {spec.name} has no such row; choose from "
                             f"{', '.join(row.key for row in spec.rows)}")
        chosen += [row for row in matched if row not in chosen]
    return tuple(row for row in spec.rows if row in chosen)  # the paper's order


def mapping_lines(spec: TableSpec) -> list[str]:
    """The rows of a table and how each is trained: what --list and the report print."""
    key_width, label_width = (max(len(text) for text in texts) for texts in zip(*((r.key, r.label) for r in spec.rows)))
    aliases = "".join(f" (also: {alias})" for alias, name in TABLE_ALIASES.items() if name == spec.name)
    return [f"{spec.name}: {spec.paper_table}{f' ({spec.section})' if spec.section else ''}, {spec.title} "
            f"[{spec.dataset}]{aliases}"] + [f"  {row.key:<{key_width}}  {row.label:<{label_width}}  {row.flags}"
                                             for row in spec.rows]


# ---- options and runs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReproduceOptions:
    table: str
    out: Path
    preset: str | None = None  # None: paper on a GPU, cpu otherwise (as train-vae)
    rows: tuple[str, ...] | None = None
    seeds: int = 1
    data_dir: str | None = None
    device: str = "auto"
    epochs: int | None = None  # passed to train-vae: a quick run
    max_train_sentences: int | None = None  # passed to train-vae: a quick run
    max_sentences: int | None = None  # passed to the tasks: a quick run
    precision: str | None = None  # passed to train-vae (None: auto, which trains in fp32)
    progress: bool = True


@dataclass(frozen=True)
class RunPlan:
    row: Row
    seed: int
    run_dir: Path

    @property
    def finished(self) -> bool:
        """metrics.json and the export: what train_vae writes last."""
        return all((self.run_dir / name).is_file() for name in ("metrics.json", "config.json", "model.safetensors"))

    @property
    def interrupted(self) -> bool:
        from vae.loading import CHECKPOINT

        return (self.run_dir / CHECKPOINT).is_file()


def run_dir_for(out: Path, dataset: str, row: Row, seed: int) -> Path:
    lam = f"-lam{row.lam:g}" if row.lam is not None else ""
    return out / "runs" / f"{dataset}-{row.method}{lam}-seed{seed}"


def quick_marks(train_config: dict, max_sentences: int | None) -> list[str]:
    """What makes a run quicker than the paper's: read from the run's own train_config.json (a reused run may
    have been trained with other options than this invocation's)."""
    marks = shortened_training(train_config)
    if max_sentences is not None:
        marks.append(f"task max_sentences {max_sentences}")
    return marks


class ProgressLine:
    """"[2/6] + anneal seed 783435: training; table ETA 3m10s". Rows that train and rows that are only scored
    (reused or built-in; minutes at most) are timed apart, so a re-scored row does not make a training row look
    short: the rows left to train at the mean of the rows that trained, the others at the mean of theirs (0 while
    rows are left to train and none has been scored yet)."""

    def __init__(self, trains: Sequence[bool], log: Log):
        self.trains, self.log, self.done = list(trains), log, 0
        self.seconds = {True: [], False: []}  # by whether the row trained

    def say(self, plan: RunPlan, stage: str) -> None:
        left_training = sum(self.trains[self.done:])
        left_other = len(self.trains) - self.done - left_training
        if left_training and not self.seconds[True]:
            eta = "table ETA unknown until a row has trained"
        elif not left_training and not self.seconds[False]:
            eta = "table ETA unknown until a row has been scored"
        else:
            mean = {kind: sum(times) / len(times) if times else 0.0 for kind, times in self.seconds.items()}
            eta = f"table ETA {format_seconds(left_training * mean[True] + left_other * mean[False])}"
        self.log(f"[{self.done + 1}/{len(self.trains)}] {plan.row.label} seed {plan.seed}: {stage}; {eta}")

    def finish(self, seconds: float) -> None:
        self.seconds[self.trains[self.done]].append(seconds)
        self.done += 1


def format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def autoencoder_stage_donor(plan: RunPlan, spec: TableSpec, out: Path) -> Path | None:
    """The run of another row of the table, same seed, in OUT (chosen now or in an earlier invocation) that has saved
    the autoencoder stage this row's method starts with (vae/autoencoder_stage.py); None if this row trains no
    such stage or resumes its own checkpoint."""
    from vae.autoencoder_stage import SNAPSHOT_KEY
    from vae.methods import get_method

    if plan.row.builtin or plan.interrupted or not get_method(plan.row.method).starts_with_autoencoder:
        return None
    runs = (run_dir_for(out, spec.dataset, row, plan.seed) for row in spec.rows if not row.builtin)
    return next((run for run in runs if run != plan.run_dir and (run / SNAPSHOT_KEY).is_file()), None)


def train_row(plan: RunPlan, spec: TableSpec, options: ReproduceOptions, preset: str, log: Log,
              donor: Path | None = None) -> None:
    """Train the row's run (from the donor's autoencoder stage where there is one), or continue it from its
    checkpoint."""
    from vae import train as training  # here, and looked up at call time (tests replace train_vae)
    from vae.autoencoder_stage import AutoencoderStageMismatch

    config = training.TrainConfig(
        dataset=spec.dataset, method=plan.row.method, lam=plan.row.lam, preset=preset, data_dir=options.data_dir,
        run_dir=str(plan.run_dir), device=options.device, seed=plan.seed, epochs=options.epochs,
        max_train_sentences=options.max_train_sentences, precision=options.precision,
        autoencoder_stage_from=str(donor) if donor else None, resume=plan.interrupted, progress=options.progress)
    try:
        training.train_vae(config, log=log)
    except AutoencoderStageMismatch as mismatch:  # a reused run trained by another version, or on other data
        log(f"{plan.row.label} seed {plan.seed} trains its own autoencoder stage: {mismatch}")
        training.train_vae(dataclasses.replace(config, autoencoder_stage_from=None), log=log)


def check_reused_run(plan: RunPlan, options: ReproduceOptions, preset: str) -> dict:
    """A finished run is reused only when it was trained as this invocation asks, under the preset as it is now
    defined; returns its train_config."""
    from vae.device import resolve_device
    from vae.methods import get_method
    from vae.precision import resolve_precision
    from vae.presets import get_preset
    from vae.train import preset_changes

    path = plan.run_dir / "train_config.json"
    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    wanted = {"method": plan.row.method, "lam": plan.row.lam, "preset": preset, "seed": plan.seed,
              "epochs": options.epochs,
              "max_train_sentences": options.max_train_sentences or get_preset(preset).max_train_sentences,
              "precision": resolve_precision(options.precision or "auto", resolve_device(options.device),
                                             training=True)}
    differ = [f"{name} {stored.get(name)!r} (asked: {value!r})" for name, value in wanted.items()
              if stored.get(name) != value]
    if "preset_settings" in stored and stored.get("preset") == preset:
        differ += [f"preset {preset}'s {change}" for change in
                   preset_changes(stored["preset_settings"], get_preset(preset), get_method(plan.row.method))]
    if differ:
        raise ProbeError(f"{plan.run_dir} was trained with other options: {', '.join(differ)}; "
                         f"use another --out or the same options")
    return stored


# ---- scores -------------------------------------------------------------------------------------------------

# Tasks whose scores changed after record 6. smoothness 2: the PCC's interval resamples the test sentences too.
TASK_REVISIONS = {"smoothness": 2}


def task_scores(plan: RunPlan, spec: TableSpec, options: ReproduceOptions, log: Log,
                say: Callable[[str], None]) -> dict:
    """{task: {"status", "scores", "reason", "n_examples"}} of the run: from OUT/scores/
    when these weights were already scored with these settings, else from run_tasks (which also records them on
    OUT/leaderboard.json)."""
    from probe.encoders import weights_sha256

    entry_id = leaderboard_entry_id(spec, plan)
    # "record" 5: results carry their intervals (5: also of scores besides the main one, such as noisy-recon's k
    # columns) and what their seeds repeat, gmm-cluster averages 5 fits and resolves tied components in the
    # authors' order; 6: few-label's SGD probe batches by sentence length and has 10 outputs, as the authors'
    # (older records are scored again).
    settings = {"tasks": list(spec.tasks), "max_sentences": options.max_sentences, "seed": plan.seed,
                "dataset": spec.dataset, "record": 6}
    revisions = {task: TASK_REVISIONS[task] for task in spec.tasks if task in TASK_REVISIONS}
    if revisions:  # only the tables of a changed task are scored again
        settings["revisions"] = revisions
    weights = builtin_sha256(plan.row.method) if plan.row.builtin else weights_sha256(plan.run_dir)
    record_path = options.out / "scores" / spec.name / f"{plan.row.key}-seed{plan.seed}.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("weights_sha256") == weights and record.get("settings") == settings:
            say("scores of these weights already recorded: reused")
            return record["results"]
    say(f"running {', '.join(spec.tasks)}")
    from probe import runner  # looked up at call time (tests replace run_tasks)

    results = runner.run_tasks(
        plan.row.method if plan.row.builtin else str(plan.run_dir), tasks=list(spec.tasks), dataset=spec.dataset,
        data_dir=options.data_dir,
        leaderboard_path=options.out / "leaderboard.json", cache_dir=options.out / "cache", seed=plan.seed,
        max_sentences=options.max_sentences, device=options.device, progress=options.progress, log=log,
        entry_id=entry_id)
    by_task = {result.task: {"status": result.status, "scores": dict(result.scores), "reason": result.reason,
                             "n_examples": result.n_examples, "main_score_name": result.main_score_name,
                             "ci95": list(result.ci95) if result.ci95 else None,
                             "score_ci95": {name: list(interval) for name, interval in result.score_ci95.items()},
                             "per_seed": {name: list(values) for name, values in result.per_seed.items()},
                             "per_seed_unit": result.extra.get("per_seed_unit"),
                             "bootstrap_unit": result.extra.get("bootstrap_unit")}
               for result in results}
    atomic.write_json(record_path, {"entry_id": entry_id, "weights_sha256": weights, "settings": settings,
                                    "results": by_task})
    return by_task


def builtin_sha256(name: str) -> str:
    """The recipe and seed of the built-in that run_tasks fits: its scores are reused only while they are the same."""
    from probe.encoders import load_encoder

    return load_encoder(name).entry_sha256


def leaderboard_entry_id(spec: TableSpec, plan: RunPlan) -> str:
    """The run's entry on OUT/leaderboard.json."""
    return f"{spec.name}/{plan.row.key}/seed{plan.seed}"


def record_lm_scores(plan: RunPlan, spec: TableSpec, options: ReproduceOptions, log: Log) -> None:
    """Put the run's test metrics on OUT/leaderboard.json as its lm result, as task_scores does for tasks."""
    from probe import runner

    runner.record_run_lm_metrics(plan.run_dir, data_dir=options.data_dir,
                                 leaderboard_path=options.out / "leaderboard.json",
                                 entry_id=leaderboard_entry_id(spec, plan), log=log)


def lm_scores(plan: RunPlan) -> dict:
    """The run's test metrics (metrics.json) in the shape of a task's results."""
    metrics = json.loads((plan.run_dir / "metrics.json").read_text(encoding="utf-8"))
    return {None: {"status": "ok", "scores": {k: v for k, v in metrics.items() if isinstance(v, (int, float))
                                              and not isinstance(v, bool)},
                   "reason": None, "n_examples": metrics.get("n_sentences")}}


def cell_value(column: Column, results: dict, row: Row) -> tuple[float | None, str | None]:
    """(our number in the paper's unit, None) or (None, why the cell is not applicable)."""
    result = results.get(column.task)
    if result is None:
        return None, f"{column.task} has no result"
    if result["status"] != "ok":
        return None, result["reason"]
    value = result["scores"].get(column.score)
    if value is None:
        if column.task is None:
            return None, f"{row.method} has no {column.score} (no latent variable)" if row.method == "lm" else \
                f"metrics.json has no {column.score}"
        return None, (f"{column.task} gave no {column.score!r} score (with fewer train sentences than the "
                      f"label size, that size is not run)" if column.task == "few-label" else
                      f"{column.task} gave no {column.score!r} score")
    return float(value) * column.scale, None


def cell_interval(column: Column, results: dict) -> tuple[tuple[float, float] | None, str]:
    """One run's 95 % interval of a cell, in the paper's unit, and what it is over: the task's repeats (its
    per_seed: few-label's label draws, gmm-cluster's fits), else its bootstrap over test examples (of its main
    score, or of another score measured per example), else none."""
    result = results.get(column.task) or {}
    draws = (result.get("per_seed") or {}).get(column.score) or []
    if len(draws) >= 2:
        low, high = student_t_interval(draws)
        unit = result.get("per_seed_unit") or "seeds"
        return (low * column.scale, high * column.scale), f"t over {len(draws)} {unit}"
    interval = result.get("ci95") if result.get("main_score_name") == column.score else \
        (result.get("score_ci95") or {}).get(column.score)
    if interval:
        from tasks.base import DEFAULT_BOOTSTRAP_UNIT  # here, not at the top: the command line starts without vae/

        low, high = interval
        unit = result.get("bootstrap_unit") or DEFAULT_BOOTSTRAP_UNIT  # recorded only where a task differs
        return (low * column.scale, high * column.scale), f"bootstrap over {result.get('n_examples'):,} {unit}"
    return None, "no interval: one run's number" if column.task is None else "no interval recorded for this score"


# ---- the report ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CellReport:
    row: str
    column: str
    score: str  # our score's name and direction
    higher_is_better: bool | None
    values: tuple[float, ...]  # ours, one per seed that has it
    paper: float | None  # None: "-" in the paper
    cite: str | None
    not_applicable: str | None = None  # why ours is missing
    decimals: int = 2  # the paper's; ours are shown with one more
    ci95: tuple[float, float] | None = None  # of ours: over the seeds when there are several, else of the run
    ci95_over: str = ""  # what the interval is over
    n_examples: int | None = None  # the test examples each seed's number was measured on

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def difference(self) -> float | None:
        return None if self.mean is None or self.paper is None else self.mean - self.paper

    def interval_text(self) -> str:
        if self.ci95 is None:
            return "–" if self.mean is None else f"– ({self.ci95_over})"
        places = self.decimals + 1
        return f"[{self.ci95[0]:.{places}f}, {self.ci95[1]:.{places}f}] ({self.ci95_over})"

    def n_text(self) -> str:
        """Seeds, and the test examples of each."""
        seeds = f"{self.n} seed{'s' if self.n != 1 else ''}"
        return f"{seeds} × {self.n_examples:,} examples" if self.n_examples else seeds

    def to_json(self) -> dict:
        return {**asdict(self), "values": list(self.values), "n": self.n, "mean": self.mean, "std": self.std,
                "difference": self.difference, "ci95": list(self.ci95) if self.ci95 else None}


@dataclass(frozen=True)
class RunReport:
    row: str
    key: str
    method: str
    lam: float | None
    seed: int
    run_dir: str  # "" for a built-in row
    trained: str  # "trained", "resumed", "reused" or "built-in"
    quick: tuple[str, ...] = field(default=())
    precision: str | None = None  # the run's training precision; None for a built-in

    def how(self) -> str:
        """"trained in fp32": how the run came to be and in which precision it trained."""
        return f"{self.trained} in {self.precision}" if self.precision else self.trained


@dataclass(frozen=True)
class TableReport:
    spec: TableSpec
    preset: str
    seeds: tuple[int, ...]
    runs: tuple[RunReport, ...]
    cells: tuple[CellReport, ...]

    def to_json(self) -> dict:
        return {"table": self.spec.name, "paper_table": self.spec.paper_table, "section": self.spec.section,
                "title": self.spec.title, "dataset": self.spec.dataset, "preset": self.preset,
                "seeds": list(self.seeds),
                "rows": [{"label": row.label, "key": row.key, "method": row.method, "lam": row.lam,
                          "builtin": row.builtin}
                         for row in self.spec.rows if any(run.row == row.label for run in self.runs)],
                "runs": [asdict(run) | {"quick": list(run.quick)} for run in self.runs],
                "cells": [cell.to_json() for cell in self.cells],
                "best": sorted([row, column] for row, column in self.best_cells())}

    def best_cells(self) -> frozenset[tuple[str, str]]:
        """(row, column) of the best mean in each column with a direction; ties are all best. A column where
        fewer than two rows have a number has none."""
        best = set()
        for column in self.spec.columns:
            scored = [cell for cell in self.cells if cell.column == column.label and cell.mean is not None
                      and cell.higher_is_better is not None]
            if len(scored) < 2:
                continue
            pick = max if scored[0].higher_is_better else min
            top = pick(cell.mean for cell in scored)
            best |= {(cell.row, cell.column) for cell in scored if cell.mean == top}
        return frozenset(best)

    def markdown(self) -> str:
        spec = self.spec
        best = self.best_cells()
        quick_rows = {run.row for run in self.runs if run.quick}
        lines = [f"# {spec.paper_table}{f' ({spec.section})' if spec.section else ''}: {spec.title}", "",
                 f"Dataset {spec.dataset}, preset {self.preset}, seeds {', '.join(map(str, self.seeds))}. "
                 f"Ours is the mean ± std over the seeds (n of them); difference = ours − paper.", "",
                 "| paper row | --rows | train-vae options | runs |", "|---|---|---|---|"]
        for row in spec.rows:
            runs = [run for run in self.runs if run.row == row.label]
            if runs:
                shown = "; ".join((f"`{run.run_dir}` ({run.how()}" if run.run_dir else "(built-in, fitted on the "
                                   "train split") + (f", quick: {', '.join(run.quick)})" if run.quick else ")")
                                  for run in runs)
                mark = " †" if row.label in quick_rows else ""
                lines.append(f"| {row.label}{mark} | {row.key} | `{row.flags}` | {shown} |")
        lines += ["", "| row | column | score | ours | 95% interval | paper | difference | n |",
                  "|---|---|---|---|---|---|---|---|"]
        for cell in self.cells:
            places = cell.decimals + 1
            ours = f"n/a: {cell.not_applicable}" if cell.mean is None else f"{cell.mean:.{places}f}" + (
                f" ± {cell.std:.{places}f}" if cell.std is not None else "")
            if (cell.row, cell.column) in best:
                ours = f"**{ours}** (best)"
            paper = "– (not in the paper)" if cell.paper is None else f"{cell.paper:.{cell.decimals}f}"
            difference = "" if cell.difference is None else f"{cell.difference:+.{places}f}"
            mark = " †" if cell.row in quick_rows else ""
            lines.append(f"| {cell.row}{mark} | {cell.column} | {cell.score} | {ours} | {cell.interval_text()} "
                         f"| {paper} | {difference} | {cell.n_text()} |")
        if best:
            lines += ["", "(best): the best mean in its column, in the score's direction (↑/↓)."]
        if quick_rows:
            lines += ["", "† trained or scored with a quick option (see the runs above): not the paper's budget, "
                      "so the numbers are not expected to match."]
        if any(row.builtin for row in spec.rows if row.label in {run.row for run in self.runs}):
            lines += ["", BUILTIN_NOTE]
        return "\n".join(lines) + "\n"

    def html_table(self) -> str:
        """The table as the paper lays it out (rows × columns) for the HTML report; each cell gives ours (± std
        over seeds), its 95 % interval and n, the paper's number and the difference, or why it is missing."""
        from leaderboard.render import escape

        spec, quick_rows = self.spec, {run.row for run in self.runs if run.quick}
        cells, best = {(cell.row, cell.column): cell for cell in self.cells}, self.best_cells()
        shown_rows = [row for row in spec.rows if any(run.row == row.label for run in self.runs)]
        header = "".join(f"<th>{escape(column.label)}<br><small>{escape(column.name)}</small></th>"
                         for column in spec.columns)
        body = []
        for row in shown_rows:
            mark = " †" if row.label in quick_rows else ""
            tds = "".join(_html_cell(cells[(row.label, column.label)], escape, (row.label, column.label) in best)
                          for column in spec.columns)
            body.append(f"<tr><td>{escape(row.label + mark)}<br><small><code>{escape(row.flags)}</code></small>"
                        f"</td>{tds}</tr>")
        def run_item(run: RunReport) -> str:
            where = (f"{escape(run.run_dir)} ({escape(run.how())}" if run.run_dir
                     else "(built-in, fitted on the train split")
            quick = f"; quick: {escape(', '.join(run.quick))})" if run.quick else ")"
            return f"<li>{escape(run.row)} seed {run.seed}: {where}{quick}</li>"

        runs = "".join(run_item(run) for run in self.runs)
        notes = ("Each cell: ours (mean ± std over the seeds), its 95% interval and n (seeds × test examples); "
                 "the paper's number and ours − paper. ↑ higher is better, ↓ lower is better. Shaded and marked "
                 "(best): the best mean in its column.")
        quick = ("† trained or scored with a quick option: not the paper's budget, so the numbers are not "
                 "expected to match." if quick_rows else "")
        if any(row.builtin for row in shown_rows):
            notes += " " + BUILTIN_NOTE
        return (f"<h2>{escape(spec.paper_table)}{escape(f' ({spec.section})' if spec.section else '')}: "
                f"{escape(spec.title)}</h2>\n<p>Dataset {escape(spec.dataset)}, preset {escape(self.preset)}, seeds "
                f"{escape(', '.join(map(str, self.seeds)))}.</p>\n<table>\n<thead><tr><th>row</th>{header}</tr></thead>"
                f"\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
                f'<p class="note">{escape(notes)}</p>\n' + (f'<p class="note">{escape(quick)}</p>\n' if quick else "")
                + f"<h3>Runs</h3>\n<ul>{runs}</ul>")


def _html_cell(cell: CellReport, escape, best: bool = False) -> str:
    places = cell.decimals + 1
    paper = "paper: –" if cell.paper is None else f"paper: {cell.paper:.{cell.decimals}f}"
    if cell.mean is None:
        return f"<td>n/a<br><small>{escape(cell.not_applicable or '')}</small><br><small>{escape(paper)}</small></td>"
    ours = f"{cell.mean:.{places}f}" + (f" ± {cell.std:.{places}f}" if cell.std is not None else "")
    difference = "" if cell.difference is None else f" ({cell.difference:+.{places}f})"
    lines = [cell.interval_text(), f"n = {cell.n_text()}", paper + difference]
    if best:
        ours += " (best)"
    return f'<td class="num{" best" if best else ""}"><strong>{escape(ours)}</strong>' + "".join(
        f"<br><small>{escape(line)}</small>" for line in lines) + "</td>"


def build_cells(spec: TableSpec, rows: Sequence[Row], results_by_run: dict[tuple[str, int], dict],
                seeds: Sequence[int]) -> tuple[CellReport, ...]:
    cells = []
    for row in rows:
        for column in spec.columns:
            values, reasons, intervals, examples = [], [], [], []
            for seed in seeds:
                results = results_by_run[(row.key, seed)]
                value, reason = cell_value(column, results, row)
                if value is None or math.isnan(value):
                    reasons.append(reason or f"{column.score} is not a number")
                else:
                    values.append(value)
                    intervals.append(cell_interval(column, results))
                    examples.append((results.get(column.task) or {}).get("n_examples"))
            if len(values) >= 2:
                ci95, over = student_t_interval(values), f"t over {len(values)} seeds"
            else:
                ci95, over = intervals[0] if intervals else (None, "")
            paper = paper_cell(column.paper_table or spec.paper_table, row.label, column.label, spec.section)
            cells.append(CellReport(row.label, column.label, column.name, column.higher_is_better,
                                    tuple(values),
                                    paper.value if paper else None, paper.cite if paper else None,
                                    None if values else "; ".join(dict.fromkeys(reasons)), column.decimals,
                                    ci95, over, examples[0] if examples else None))
    return tuple(cells)


# ---- the whole table ----------------------------------------------------------------------------------------

def reproduce(options: ReproduceOptions, log: Log = print) -> TableReport:
    """Train (or reuse) every chosen row and seed, score it, write OUT/TABLE.md and OUT/TABLE.json."""
    from vae.device import resolve_device

    spec = get_table(options.table)
    rows = select_rows(spec, options.rows)
    if options.seeds < 1:
        raise ProbeError(f"--seeds must be at least 1, got {options.seeds}")
    preset = options.preset or ("paper" if resolve_device(options.device).type == "cuda" else "cpu")
    seeds = tuple(FIRST_SEED + k for k in range(options.seeds))
    plans = [RunPlan(row, seed, run_dir_for(options.out, spec.dataset, row, seed)) for row in rows for seed in seeds]
    for line in mapping_lines(spec):
        log(line)
    progress = ProgressLine([not plan.row.builtin and not plan.finished for plan in plans], log)
    runs, results_by_run = [], {}
    for plan in plans:
        started = time.perf_counter()
        if plan.row.builtin:
            train_config, trained = {}, "built-in"
        elif plan.finished:
            progress.say(plan, f"finished run {plan.run_dir} reused")
            train_config = check_reused_run(plan, options, preset)
            trained = "reused"
        else:
            trained = "resumed" if plan.interrupted else "trained"
            donor = autoencoder_stage_donor(plan, spec, options.out)
            progress.say(plan, f"{'resuming' if plan.interrupted else 'training'} {plan.run_dir} ({plan.row.flags})"
                         + (f" from the autoencoder stage of {donor}" if donor else ""))
            train_row(plan, spec, options, preset, log, donor)
            train_config = json.loads((plan.run_dir / "train_config.json").read_text(encoding="utf-8"))
        if spec.tasks:
            results_by_run[(plan.row.key, plan.seed)] = task_scores(
                plan, spec, options, log, lambda stage, plan=plan: progress.say(plan, stage))
            max_sentences = options.max_sentences
        else:
            results_by_run[(plan.row.key, plan.seed)] = lm_scores(plan)
            record_lm_scores(plan, spec, options, log)
            max_sentences = None  # LM metrics are the run's own (its preset caps the test split)
        runs.append(RunReport(plan.row.label, plan.row.key, plan.row.method, plan.row.lam, plan.seed,
                              "" if plan.row.builtin else str(plan.run_dir), trained,
                              tuple(quick_marks(train_config, max_sentences)), train_config.get("precision")))
        progress.finish(time.perf_counter() - started)
    report = TableReport(spec, preset, seeds, tuple(runs), build_cells(spec, rows, results_by_run, seeds))
    atomic.write_text(options.out / f"{spec.name}.md", report.markdown())
    atomic.write_json(options.out / f"{spec.name}.json", report.to_json())
    page = write_html(report, options.out)
    log(report.markdown())
    log(f"wrote {options.out / f'{spec.name}.md'}, {options.out / f'{spec.name}.json'} and {page}")
    return report


def write_html(report: TableReport, out: Path) -> Path:
    """OUT/TABLE.html: the table beside the paper's, then the leaderboard of its runs with their plots."""
    from leaderboard.render import render_html
    from leaderboard.schema import Leaderboard
    from leaderboard.store import load

    board_path = out / "leaderboard.json"
    board = load(board_path) if board_path.is_file() else Leaderboard()
    # OUT/leaderboard.json holds every table run into OUT: this page shows this table's entries.
    board.entries = {key: entry for key, entry in board.entries.items() if key.startswith(f"{report.spec.name}/")}
    title = f"probe reproduce {report.spec.name}"
    return render_html(board, out / f"{report.spec.name}.html", title=title, preamble_html=report.html_table())


def parse_rows(text: str | None) -> tuple[str, ...] | None:
    return tuple(name for name in re.split(r"[,\s]+", text) if name) if text else None
