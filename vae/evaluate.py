"""`probe eval-lm`: the language-modelling metrics of a saved run on any split."""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from . import atomic
from .data import LengthBucketBatcher, load_corpus
from .data.tokenizer import encode
from .device import configure_backends, decoder_token_budget, resolve_device
from .errors import ProbeError
from .export import load_run
from .metrics import evaluate_lm


def evaluate_run(run, dataset=None, split="test", data_dir=None, iw_samples=1000, max_sentences=None,
                 device="auto", seed=0, out=None, progress=True) -> dict:
    device = resolve_device(device)
    configure_backends(device)
    model, tokenizer = load_run(run, device)
    dataset = dataset or (model.config.training or {}).get("dataset")
    if not dataset:
        raise ProbeError(f"{run}: the run does not record its dataset; pass --dataset")
    corpus = load_corpus(dataset, split, data_dir).head(max_sentences)
    batcher = LengthBucketBatcher(encode(tokenizer, corpus.sentences), batch_size=32)
    bar = (lambda it, total: tqdm(it, total=total, desc=f"{corpus.name} {split}", leave=False)) if progress else None
    metrics = evaluate_lm(model, batcher, device, iw_samples, max_decoder_tokens=decoder_token_budget(device), seed=seed, progress=bar)
    result = {"split": split, "dataset": corpus.name, "method": model.config.method,
              "lam": (model.config.training or {}).get("lam"), **metrics.to_dict()}
    if out is not None:
        atomic.write_json(Path(out), result)
    return result
