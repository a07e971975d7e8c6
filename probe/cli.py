"""The `probe` command line: it parses arguments and calls the library; every error is one line."""

from __future__ import annotations

import os

# Before torch loads: its OpenMP threads otherwise busy-wait, which makes a shared CPU several times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import functools  # noqa: E402
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

DataDir = typer.Option(None, "--data-dir", envvar="PROBE_DATA_DIR", help="Folder of the corpora (yelp/, snli/, ...).")
Seed = typer.Option(783435, "--seed", help="Fixes every random choice.")


def user_errors(command):
    """Turn the project's errors into one line on stderr and exit status 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from leaderboard.errors import LeaderboardError
        from vae.errors import ProbeError

        try:
            return command(*args, **kwargs)
        except (ProbeError, LeaderboardError, KeyError, ValueError, FileNotFoundError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(2)

    return wrapper


class FreeBitsPer(str, Enum):
    example = "example"
    batch = "batch"


@app.command("train-vae")
@user_errors
def train_vae_command(
    dataset: str = typer.Argument(..., help="yelp, snli, ptb, yahoo, or a folder/file of the same format."),
    method: str = typer.Option("pretrain-fb", "--method", help="pretrain-fb (Li et al.), vae, anneal, cyclic, "
                               "aggressive, fb, fbp, ae, lm, iwae, pretrain, pretrain-anneal."),
    lam: Optional[float] = typer.Option(None, "--lam", help="Total target rate lambda in nats (free-bits methods); "
                                        "per dimension lam/nz. Default: the paper's value for the dataset."),
    preset: Optional[str] = typer.Option(None, "--preset", help="paper, cpu or tiny. Default: paper on a GPU, cpu otherwise."),
    data_dir: Optional[Path] = DataDir,
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Default: runs/DATASET-METHOD[-lamLAM]."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1 ..."),
    seed: int = Seed,
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs per stage (overrides the preset)."),
    max_train_sentences: Optional[int] = typer.Option(None, "--max-train-sentences"),
    iw_samples: Optional[int] = typer.Option(None, "--iw-samples", help="Importance samples for the test NLL."),
    free_bits_per: FreeBitsPer = typer.Option(FreeBitsPer.example, "--free-bits-per",
                                              help="Threshold each example's KL_i (paper) or the batch mean of KL_i."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its last checkpoint."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
):
    """Train a text VAE (or a baseline) with the paper's settings, evaluate it on test, export it."""
    from vae.train import TrainConfig, train_vae

    config = TrainConfig(
        dataset=dataset, method=method, lam=lam, preset=preset, data_dir=str(data_dir) if data_dir else None,
        run_dir=str(run_dir) if run_dir else None, device=device, seed=seed, epochs=epochs,
        max_train_sentences=max_train_sentences, iw_samples=iw_samples, free_bits_per=free_bits_per.value,
        resume=resume, progress=progress,
    )
    train_vae(config, log=lambda message: typer.echo(message))


@app.command("eval-lm")
@user_errors
def eval_lm_command(
    run: Path = typer.Argument(..., help="A run directory or export of this project."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Default: the dataset the run was trained on."),
    split: str = typer.Option("test", "--split"),
    data_dir: Optional[Path] = DataDir,
    iw_samples: int = typer.Option(1000, "--iw-samples", help="Importance samples per sentence (paper: 1000)."),
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences"),
    device: str = typer.Option("auto", "--device"),
    seed: int = Seed,
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the metrics to this JSON file."),
):
    """The language-modelling metrics of a trained run: IW NLL and PPL, Recon, KL, -ELBO, ELBO PPL, MI, AU."""
    from vae.evaluate import evaluate_run

    metrics = evaluate_run(run, dataset=dataset, split=split, data_dir=data_dir, iw_samples=iw_samples,
                           max_sentences=max_sentences, device=device, seed=seed, out=out)
    from vae.train import format_metrics

    typer.echo(format_metrics(metrics))


LeaderboardFile = typer.Option(Path("leaderboard.json"), "--leaderboard", help="The leaderboard JSON file.")


@app.command("run-tasks")
@user_errors
def run_tasks_command(
    encoder: str = typer.Option(..., "--encoder", help="A probe run dir or export, a Hugging Face model folder, "
                                "or a built-in: tfidf-svd, random-lstm."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task names. Default: gmm-cluster, "
                                        "few-label, smoothness, recon-bleu, noisy-recon, interpolation, lm."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Run every task on this dataset instead of "
                                          "the paper's (yelp for labelled tasks, snli for the latent-space probes)."),
    data_dir: Optional[Path] = DataDir,
    leaderboard: Path = LeaderboardFile,
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", envvar="PROBE_CACHE_DIR",
                                             help="Where codes are cached. Default: ~/.cache/probe."),
    seed: int = Seed,
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", help="Keep the first N sentences of "
                                                "each split (quick runs; recorded with each result)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1 ..."),
    one2one: bool = typer.Option(False, "--one2one", help="gmm-cluster with as many components as classes and an "
                                 "optimal one-to-one assignment (Hungarian) instead of 10 components."),
    iw_samples: Optional[int] = typer.Option(None, "--iw-samples", help="Importance samples of the lm task "
                                             "(default 1000, as the paper: hours on a CPU for a 10K test set)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
):
    """Evaluate one encoder on the tasks and add every result (or why it is not applicable) to the leaderboard."""
    from probe.runner import run_tasks
    from tasks.lm import LanguageModelling
    from tasks.registry import DEFAULT_TASKS

    selected: list = [name.strip() for name in (tasks.split(",") if tasks else DEFAULT_TASKS) if name.strip()]
    if one2one:
        selected = ["gmm-cluster-one2one" if name == "gmm-cluster" else name for name in selected]
    if iw_samples is not None:
        selected = [LanguageModelling(iw_samples=iw_samples) if name == "lm" else name for name in selected]
    run_tasks(encoder, tasks=selected, dataset=dataset, data_dir=data_dir, leaderboard_path=leaderboard,
              cache_dir=cache_dir, seed=seed, max_sentences=max_sentences, device=device, progress=progress,
              log=typer.echo)


leaderboard_app = typer.Typer(no_args_is_help=True, help="Show, compare and render the leaderboard.")
app.add_typer(leaderboard_app, name="leaderboard")


@leaderboard_app.command("show")
@user_errors
def leaderboard_show_command(
    leaderboard: Path = LeaderboardFile,
    task: Optional[str] = typer.Option(None, "--task", help="Only these tasks (comma-separated)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Only results on this dataset."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort by this column (e.g. few-label/yelp)."),
    ascending: bool = typer.Option(False, "--ascending", help="Lowest first (e.g. for lm/ptb perplexity)."),
):
    """The main score of every entry on every task, one row per entry."""
    from leaderboard import format_table, load, show_table

    tasks = [name.strip() for name in task.split(",") if name.strip()] if task else None
    columns, rows = show_table(load(leaderboard), tasks=tasks, dataset=dataset, sort_by=sort, descending=not ascending)
    typer.echo(format_table(columns, rows))


@leaderboard_app.command("compare")
@user_errors
def leaderboard_compare_command(
    entry_a: str = typer.Argument(..., help="Entry id A."),
    entry_b: str = typer.Argument(..., help="Entry id B."),
    leaderboard: Path = LeaderboardFile,
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
):
    """B minus A on every task both ran, with a 95% bootstrap interval of the difference."""
    from leaderboard import compare_entries, load

    comparisons = compare_entries(load(leaderboard), entry_a, entry_b, seed=seed)
    if not comparisons:
        typer.echo(f"{entry_a} and {entry_b} have no successful task result in common")
    for c in comparisons:
        interval = f"[{c.lo:+.4f}, {c.hi:+.4f}]" if c.lo is not None else "[no interval]"
        typer.echo(f"{c.task_key} {c.score_name}: A {c.a:.4f}  B {c.b:.4f}  B-A {c.diff:+.4f} {interval}  ({c.note})")


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
