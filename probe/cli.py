"""The `probe` command line: it parses arguments and calls the library; every error is one line."""

from __future__ import annotations

import functools
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
        from vae.errors import ProbeError

        try:
            return command(*args, **kwargs)
        except (ProbeError, KeyError, ValueError, FileNotFoundError) as error:
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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
