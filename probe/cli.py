"""The `probe` command line: it parses arguments and calls the library.

A user error (probe_common.errors.ProbeError, which the leaderboard's errors subclass) and a usage error (a bad option
value) print one line and exit with status 2; Ctrl-C exits with 130; any other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

import functools
import sys
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand, TyperGroup

from probe_common.errors import ProbeError  # a module without imports: `probe --help` stays fast
# vae/ is imported by the commands that need it, never here: `probe leaderboard show` must start fast.
IW_SAMPLES_DEFAULT_HELP = "default: vae.presets.DEFAULT_IW_SAMPLES, the paper's 1,000"

try:  # recent typer carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import UsageError

HELP = """Train LSTM text VAEs (Li et al. 2019), measure them as language models, probe any sentence encoder
on the paper's tasks, and keep a leaderboard of the results.

probe train-vae yelp --lam 6      train a VAE, evaluate it, export it
probe eval-lm RUN                 NLL, PPL, KL, MI, AU of a trained run
probe run-tasks --encoder PATH    probe an encoder, add results to leaderboard
probe reproduce table8            a paper table: train its rows, ours beside the paper's
probe leaderboard show            the leaderboard (also: compare, render)

Corpora are read from --data-dir or $PROBE_DATA_DIR. `probe COMMAND --help` lists a command's options."""


class OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, an unknown option) as one line on stderr, like the project's errors."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            status = super().main(*args, standalone_mode=False, **kwargs)  # an exit status, or None
        except UsageError as error:
            if type(error).__name__ != "NoArgsIsHelpError":  # that one is the help text, already shown
                where = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
                typer.echo(f"error: {error.format_message()}{where}", err=True)
            sys.exit(error.exit_code)
        sys.exit(status if isinstance(status, int) else 0)


app = typer.Typer(cls=OneLineErrors, add_completion=False, no_args_is_help=True, help=HELP)

DataDir = typer.Option(None, "--data-dir", envvar="PROBE_DATA_DIR", help="Folder of the corpora (yelp/, snli/, ...).")
Seed = typer.Option(783435, "--seed", help="Fixes every random choice.")
Progress = typer.Option(True, "--progress/--no-progress", help="Progress bars on stderr (in a log file: a line now "
                        "and then). --no-progress also hides the loading bars of transformers.")
# Overrides of a preset; `reproduce` marks rows trained with them as quick runs.
Epochs = typer.Option(None, "--epochs", min=1, help="Maximum epochs per stage (overrides the preset).")
MaxTrainSentences = typer.Option(None, "--max-train-sentences", min=1, help="Train on the first N sentences of "
                                 "the train split (overrides the preset).")
Device = typer.Option("auto", "--device", help="auto (a GPU when there is one), cpu, cuda or cuda:N.")
# eval-lm and run-tasks: files that replace a dataset's own valid/test split (a run's recorded ones by default).
ValidFile = typer.Option(None, "--valid", help="Validation file, instead of the dataset's own (default: the one "
                         "the run was trained with, when it was trained on a file).")
TestFile = typer.Option(None, "--test", help="Test file, instead of the dataset's own (default: the one the run "
                        "was trained with, when it was trained on a file).")


def split_files(valid: Optional[Path], test: Optional[Path]) -> dict:
    """--valid/--test as the data layer's split_files: only the options given."""
    return {split: file for split, file in (("valid", valid), ("test", test)) if file is not None}


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"probe {metadata.version('probe')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass


def user_errors(command):
    """ProbeError -> one line on stderr and exit status 2; Ctrl-C -> exit status 130. Both without a traceback.

    Only the project's own user-error type is caught: any other exception is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ProbeError as error:
            typer.echo(f"error: {' '.join(str(error).splitlines())}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


class PrecisionChoice(str, Enum):
    auto = "auto"
    bf16 = "bf16"
    fp32 = "fp32"


PRECISION_HELP = "auto, bf16 or fp32: the precision of the decoder's matrix products (sums and losses stay fp32)"
TRAIN_PRECISION_HELP = PRECISION_HELP + ". auto trains in fp32 (bf16 training measured worse); with --resume: the run's."
SCORE_PRECISION_HELP = (PRECISION_HELP + ". auto scores in bf16 on a GPU and on a CPU with native bf16 matrix "
                        "instructions (within 0.002 nats of fp32), else fp32.")


class FreeBitsPer(str, Enum):
    example = "example"
    batch = "batch"


@app.command("train-vae")
@user_errors
def train_vae_command(
    dataset: str = typer.Argument(..., help="yelp, snli, ptb, yahoo, or a folder/file of the same format."),
    method: Optional[str] = typer.Option(None, "--method", help="pretrain-fb (Li et al., the default), vae, anneal, "
                                         "cyclic, cyclic-sgd, aggressive, fb, fbp, ae, lm, iwae, pretrain, "
                                         "pretrain-anneal. With --resume: the run's."),
    lam: Optional[float] = typer.Option(None, "--lam", help="Total target rate lambda in nats (free-bits methods); "
                                        "per dimension lam/nz. Default: the paper's value for the method and dataset (fb needs it except on ptb)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="paper, paper-text, cpu or tiny. Default: paper on a "
                                         "GPU, cpu otherwise."),
    data_dir: Optional[Path] = DataDir,
    valid: Optional[Path] = typer.Option(None, "--valid", help="Validation file (needed when DATASET is one file)."),
    test: Optional[Path] = typer.Option(None, "--test", help="Test file (needed when DATASET is one file)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Default: runs/DATASET-METHOD[-lamLAM]."),
    device: str = Device,
    seed: Optional[int] = typer.Option(None, "--seed", help="Fixes every random choice. Default: 783435 (the "
                                       "authors'); with --resume: the run's."),
    epochs: Optional[int] = Epochs,
    max_train_sentences: Optional[int] = MaxTrainSentences,
    min_word_count: Optional[int] = typer.Option(None, "--min-word-count", min=1, help="Words seen fewer times in "
                                                 "the training sentences read as <unk> (overrides the preset; 1: "
                                                 "every word)."),
    iw_samples: Optional[int] = typer.Option(None, "--iw-samples", min=1, help="Importance samples for the test "
                                             "NLL (overrides the preset; the paper uses 1000)."),
    free_bits_per: Optional[FreeBitsPer] = typer.Option(None, "--free-bits-per", help="Threshold each example's "
                                                        "KL_i (default, as the paper) or the batch mean of KL_i."),
    precision: Optional[PrecisionChoice] = typer.Option(None, "--precision", help=TRAIN_PRECISION_HELP),
    autoencoder_stage_from: Optional[Path] = typer.Option(
        None, "--autoencoder-stage-from", help="Another run (ae, pretrain-fb, pretrain or pretrain-anneal) with the "
        "same data, preset, seed and precision: start from its autoencoder stage instead of training it again (the "
        "same weights to the bit; a run with other settings stops with one line). Ignored by --resume."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --run-dir from its last checkpoint, "
                                "with its stored options; an option that differs from the run's stops."),
    progress: bool = Progress,
):
    """Train a text VAE (or a baseline) with the paper's settings, evaluate it on test, export it."""
    from vae.progress import show_library_bars
    from vae.train import TrainConfig, train_vae

    show_library_bars(progress)

    config = TrainConfig(
        dataset=dataset, method=method, lam=lam, preset=preset, data_dir=str(data_dir) if data_dir else None,
        valid=str(valid) if valid else None, test=str(test) if test else None,
        run_dir=str(run_dir) if run_dir else None, device=device, seed=seed, epochs=epochs,
        max_train_sentences=max_train_sentences, min_word_count=min_word_count, iw_samples=iw_samples,
        free_bits_per=free_bits_per.value if free_bits_per else None,
        precision=precision.value if precision else None,
        autoencoder_stage_from=str(autoencoder_stage_from) if autoencoder_stage_from else None, resume=resume,
        progress=progress,
    )
    train_vae(config, log=lambda message: typer.echo(message))


@app.command("eval-lm")
@user_errors
def eval_lm_command(
    run: Path = typer.Argument(..., help="A run directory or export of this project."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Default: the dataset the run was trained on."),
    split: str = typer.Option("test", "--split", help="train, valid or test."),
    data_dir: Optional[Path] = DataDir,
    valid: Optional[Path] = ValidFile,
    test: Optional[Path] = TestFile,
    iw_samples: Optional[int] = typer.Option(None, "--iw-samples", min=1, help="Importance samples per sentence "
                                             f"({IW_SAMPLES_DEFAULT_HELP}; on a 2-core CPU about 4 sentences/s "
                                             "at paper sizes in bf16)."),
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", min=1, help="Score only the first N "
                                                "sentences of the split (a quicker estimate)."),
    device: str = Device,
    seed: int = Seed,
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the metrics to this JSON file."),
    precision: PrecisionChoice = typer.Option(PrecisionChoice.auto, "--precision", help=SCORE_PRECISION_HELP),
    progress: bool = Progress,
):
    """The language-modelling metrics of a trained run: IW NLL and PPL, Recon, KL, -ELBO, ELBO PPL, MI, AU."""
    from vae.evaluate import evaluate_run

    from vae.presets import DEFAULT_IW_SAMPLES

    iw_samples = DEFAULT_IW_SAMPLES if iw_samples is None else iw_samples
    metrics = evaluate_run(run, dataset=dataset, split=split, data_dir=data_dir, iw_samples=iw_samples,
                           max_sentences=max_sentences, device=device, seed=seed, out=out, progress=progress,
                           split_files=split_files(valid, test), precision=precision.value)
    from vae.metrics import format_metrics

    typer.echo(format_metrics(metrics))


LeaderboardFile = typer.Option(Path("leaderboard.json"), "--leaderboard", help="The leaderboard JSON file.")


class TaskNamesInHelp(TyperCommand):
    """Fills the --tasks help with every registered task name when help is shown (the registry imports the
    tasks, which takes seconds: too slow to do for every start of `probe`)."""

    def format_help(self, ctx, formatter):
        from tasks.registry import DEFAULT_TASKS, TASKS

        for param in self.params:
            if param.name == "tasks":
                param.help = (f"Comma-separated task names: {', '.join(TASKS)}. "
                              f"Default: {', '.join(DEFAULT_TASKS)}.")
        return super().format_help(ctx, formatter)


@app.command("run-tasks", cls=TaskNamesInHelp)
@user_errors
def run_tasks_command(
    encoder: str = typer.Option(..., "--encoder", help="A probe run dir or export, a Hugging Face model folder, "
                                "or a built-in: tfidf-svd, random-lstm."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task names (all are listed by "
                                        "`probe run-tasks --help`)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Run every task on this dataset instead of "
                                          "the encoder's training corpus (a VAE run's) or the paper's (yelp for "
                                          "labelled tasks, snli for the latent-space probes)."),
    data_dir: Optional[Path] = DataDir,
    valid: Optional[Path] = ValidFile,
    test: Optional[Path] = TestFile,
    leaderboard: Path = LeaderboardFile,
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", envvar="PROBE_CACHE_DIR",
                                             help="Where codes are cached. Default: ~/.cache/probe."),
    seed: int = Seed,
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", min=1, help="Keep the first N sentences "
                                                "of each split (quick runs; recorded with each result)."),
    device: str = Device,
    one2one: bool = typer.Option(False, "--one2one", help="gmm-cluster with as many components as classes and an "
                                 "optimal one-to-one assignment (Hungarian) instead of 10 components."),
    gmm_fits: Optional[int] = typer.Option(None, "--gmm-fits", min=1, help="gmm-cluster's initialisations, "
                                           "averaged (default 5; 1: the authors' single fit)."),
    iw_samples: Optional[int] = typer.Option(None, "--iw-samples", min=1, help="Importance samples of the lm task "
                                             f"({IW_SAMPLES_DEFAULT_HELP}: about 40 minutes for a 10K test set on a 2-core CPU)."),
    entry_id: Optional[str] = typer.Option(None, "--entry-id", help="The leaderboard entry to record under "
                                           "(default: the encoder's id, e.g. its run folder's name)."),
    progress: bool = Progress,
):
    """Evaluate one encoder on the tasks and add every result (or why it is not applicable) to the leaderboard."""
    from leaderboard.store import check_writable

    check_writable(leaderboard)  # before importing the runner (torch) and loading the encoder: fails in a second
    from probe.runner import run_tasks
    from vae.progress import show_library_bars

    show_library_bars(progress)
    # Task options are values, by task name: the runner makes each task with get_task(name, **options).
    task_options = {}
    gmm_options = {"one2one": True} if one2one else {}
    if gmm_fits is not None:
        gmm_options["n_fits"] = gmm_fits
    if gmm_options:
        task_options["gmm-cluster"] = gmm_options
    if iw_samples is not None:
        task_options["lm"] = {"iw_samples": iw_samples}
    run_tasks(encoder, tasks=tasks, dataset=dataset, data_dir=data_dir, leaderboard_path=leaderboard,
              cache_dir=cache_dir, seed=seed, max_sentences=max_sentences, device=device, progress=progress,
              log=typer.echo, entry_id=entry_id, split_files=split_files(valid, test), task_options=task_options)


@app.command("reproduce")
@user_errors
def reproduce_command(
    table: Optional[str] = typer.Argument(None, help="The paper's table: table8 (Yelp classification), table1, "
                                          "table2, table3 or table3-ptb, table10-ptb (PTB language modelling), "
                                          "table10-snli (SNLI language modelling), tables4-6 or table4, table5, "
                                          "table6 (SNLI latent space)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="paper, cpu or tiny (as train-vae). Default: paper "
                                         "on a GPU, cpu otherwise."),
    rows: Optional[str] = typer.Option(None, "--rows", help="Comma-separated row keys (see --list), e.g. "
                                       "ae,vae,ours; a prefix such as ours picks every ours-lamN row. Default: all."),
    seeds: int = typer.Option(1, "--seeds", min=1, help="Runs per row (seeds 783435, 783436, ...); ours is then "
                              "the mean ± std."),
    out: Path = typer.Option(Path("reproduce"), "--out", help="Folder of the runs (OUT/runs), the leaderboard "
                             "(OUT/leaderboard.json) and the report (OUT/TABLE.md, OUT/TABLE.json)."),
    list_rows: bool = typer.Option(False, "--list", help="Print each table's rows, their keys and the train-vae "
                                   "--method/--lam that trains them, and exit."),
    data_dir: Optional[Path] = DataDir,
    device: str = Device,
    epochs: Optional[int] = Epochs,
    max_train_sentences: Optional[int] = MaxTrainSentences,
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", min=1, help="Tasks keep the first N "
                                                "sentences of each split (quick runs; marked in the report)."),
    precision: Optional[PrecisionChoice] = typer.Option(None, "--precision", help=TRAIN_PRECISION_HELP + " A "
                                                        "finished row trained in another precision is not reused."),
    progress: bool = Progress,
):
    """Reproduce one of the paper's tables: train (or reuse) every row, score it, and print our numbers beside
    the paper's. Finished runs are reused and interrupted ones resumed; see --list for the rows."""
    from probe.reproduce import TABLES, ReproduceOptions, get_table, mapping_lines, parse_rows, reproduce

    if list_rows:
        for spec in [get_table(table)] if table else TABLES.values():
            typer.echo("\n".join(mapping_lines(spec)))
        return
    if table is None:
        raise ProbeError(f"give a TABLE: {', '.join(TABLES)} (or --list)")
    from vae.progress import show_library_bars

    show_library_bars(progress)
    reproduce(ReproduceOptions(table=table, out=out, preset=preset, rows=parse_rows(rows), seeds=seeds,
                               data_dir=str(data_dir) if data_dir else None, device=device, epochs=epochs,
                               max_train_sentences=max_train_sentences, max_sentences=max_sentences,
                               precision=precision.value if precision else None, progress=progress), log=typer.echo)


leaderboard_app = typer.Typer(no_args_is_help=True, help="Show, compare and render the leaderboard.")
app.add_typer(leaderboard_app, name="leaderboard")


@leaderboard_app.command("show")
@user_errors
def leaderboard_show_command(
    leaderboard: Path = LeaderboardFile,
    task: Optional[str] = typer.Option(None, "--task", help="Only these tasks (comma-separated)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Only results on this dataset."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort by this column (e.g. few-label/yelp), best "
                                       "first: the column's direction (↑ higher is better, ↓ lower is better) "
                                       "comes from its results; unknown: highest first."),
    ascending: Optional[bool] = typer.Option(None, "--ascending/--descending", help="Override the order of "
                                             "--sort: lowest or highest first. Default: best first, following "
                                             "the task's direction."),
):
    """The main score of every entry on every task, one row per entry; ↑/↓ mark whether higher or lower is better."""
    # The leaderboard's store and table only (no torch, no tasks/, no scipy or matplotlib): it must start fast.
    from leaderboard import format_table, load_summary, show_table
    from leaderboard.table import column_directions

    tasks = [name.strip() for name in task.split(",") if name.strip()] if task else None
    board = load_summary(leaderboard)  # what the table shows, read without pydantic (leaderboard.summary)
    descending = None if ascending is None else not ascending
    columns, rows = show_table(board, tasks=tasks, dataset=dataset, sort_by=sort, descending=descending)
    typer.echo(format_table(columns, rows, column_directions(board)))


@leaderboard_app.command("compare")
@user_errors
def leaderboard_compare_command(
    entry_a: str = typer.Argument(..., help="Entry id A."),
    entry_b: str = typer.Argument(..., help="Entry id B."),
    leaderboard: Path = LeaderboardFile,
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
):
    """B minus A on every task both ran, with a 95% bootstrap interval of the difference, and which is better
    (by the direction the results record; descriptive scores get the difference only)."""
    from leaderboard import compare_entries, load
    from leaderboard.compare import format_comparison

    comparisons = compare_entries(load(leaderboard), entry_a, entry_b, seed=seed)
    if not comparisons:
        typer.echo(f"{entry_a} and {entry_b} have no successful task result in common")
        return
    typer.echo(f"A = {entry_a}, B = {entry_b}")
    for comparison in comparisons:
        typer.echo(format_comparison(comparison))


@leaderboard_app.command("render")
@user_errors
def leaderboard_render_command(
    out: Path = typer.Option(..., "--out", help="The HTML file to write."),
    leaderboard: Path = LeaderboardFile,
):
    """One self-contained HTML page: the table, the few-label / noisy-recon curves, smoothness, interpolations."""
    from leaderboard import load, render_html

    typer.echo(f"wrote {render_html(load(leaderboard), out)}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
