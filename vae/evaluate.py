"""`probe eval-lm`: the language-modelling metrics of a saved run on any split."""

from __future__ import annotations

from pathlib import Path

from probe_common.errors import ProbeError

from . import atomic
from .data import EqualLengthBatcher, load_corpus
from .data.corpus import SplitFiles, locate
from .data.recorded import TrainingCorpus
from .data.registry import SPLITS
from .data.tokenizer import encode
from .device import configure_backends, decoder_token_budget, resolve_device
from .loading import load_textvae
from .metrics import evaluate_lm
from .precision import resolve_precision
from .presets import DEFAULT_IW_SAMPLES
from .progress import progress_bar, show_library_bars


def evaluate_run(run, dataset=None, split="test", data_dir=None, iw_samples=DEFAULT_IW_SAMPLES, max_sentences=None,
                 device="auto", seed=0, out=None, progress=True, split_files: SplitFiles | None = None,
                 precision="auto") -> dict:
    """`split_files` ({"valid": path, "test": path}: --valid/--test) replace the dataset's own split files."""
    check_evaluation_options(split, iw_samples, max_sentences)  # before the model and data are loaded
    if dataset:
        locate(dataset, split, data_dir, split_files)  # an unknown dataset or a missing split file: say so now
    device = resolve_device(device)
    precision = resolve_precision(precision, device)
    configure_backends(device)
    show_library_bars(progress)
    model, tokenizer = load_textvae(run, device)
    if not dataset:
        dataset, split_files = training_dataset(run, model.config.training, split_files)
    corpus = load_corpus(dataset, split, data_dir, split_files).head(max_sentences)
    batcher = EqualLengthBatcher(encode(tokenizer, corpus.sentences), batch_size=32)
    bar = lambda it, total: progress_bar(it, total=total, desc=f"{corpus.name} {split}", enabled=progress, leave=False)
    metrics = evaluate_lm(model, batcher, device, iw_samples, max_decoder_tokens=decoder_token_budget(device), seed=seed,
                          progress=bar, precision=precision)
    result = {"split": split, "dataset": corpus.name, "method": model.config.method,
              "lam": (model.config.training or {}).get("lam"), **metrics.to_dict()}
    if out is not None:
        atomic.write_json(Path(out), result)
    return result


def training_dataset(run, training: dict | None, split_files: SplitFiles | None) -> tuple[str, SplitFiles]:
    """The corpus the run was trained on and its split files: a run trained on a file (or a folder) recorded
    the files it read, its --valid/--test ones included, which are used unless others are given."""
    corpus = TrainingCorpus.of(training)
    if corpus is None:
        raise ProbeError(f"{run}: the run does not record its dataset; pass --dataset")
    return corpus.dataset, corpus.split_files(split_files)


def check_evaluation_options(split: str, iw_samples: int, max_sentences: int | None) -> None:
    if split not in SPLITS:
        raise ProbeError(f"--split {split}: choose one of {', '.join(SPLITS)}")
    require_positive("--iw-samples", iw_samples)
    if max_sentences is not None:
        require_positive("--max-sentences", max_sentences)


def require_positive(option: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProbeError(f"{option} must be a positive integer, got {value!r}")
