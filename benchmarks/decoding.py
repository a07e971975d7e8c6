"""CPU throughput of what the decoding tasks spend their time on, for one trained run.

    python benchmarks/decoding.py --encoder runs/snli-pretrain-fb [--n-sentences 2000] [--data-dir DIR]

Measures sentences per second of posterior sampling (z ~ q(z|x)), greedy decoding from those z (recon-bleu,
interpolation) and -log p(x|z) (noisy-recon), each the median of --repeats timed passes after one warm-up
pass on a small slice. Prints the numbers and writes them as JSON (default benchmarks/results/decoding.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from probe.decoder import VAEDecoder
from probe_common import atomic
from vae.data import load_corpus
from vae.loading import load_textvae

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "decoding.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, type=Path, help="a run directory or export of this project")
    parser.add_argument("--dataset", help="default: the dataset the run was trained on")
    parser.add_argument("--split", default="test")
    parser.add_argument("--data-dir", help="folder of the corpora (default: $PROBE_DATA_DIR)")
    parser.add_argument("--n-sentences", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-length", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args()


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    args = parse_args()
    model, tokenizer = load_textvae(args.encoder, "cpu")
    dataset = args.dataset or (model.config.training or {}).get("dataset")
    if not dataset:
        raise SystemExit(f"{args.encoder} does not record its training dataset: pass --dataset")
    sentences = load_corpus(dataset, args.split, args.data_dir).head(args.n_sentences).sentences
    decoder = VAEDecoder(model, tokenizer, "cpu", batch_size=args.batch_size)

    def sample() -> np.ndarray:
        return decoder.sample_posterior(sentences, np.random.default_rng(args.seed))

    z = sample()
    warm = slice(0, min(64, len(sentences)))
    decoder.greedy_decode(z[warm], args.max_length)
    decoder.reconstruction_nll(sentences[warm], z[warm])
    timings = {
        "posterior_sample": median_seconds(sample, args.repeats),
        "greedy_decode": median_seconds(lambda: decoder.greedy_decode(z, args.max_length), args.repeats),
        "reconstruction_nll": median_seconds(lambda: decoder.reconstruction_nll(sentences, z), args.repeats),
    }
    decoded = decoder.greedy_decode(z, args.max_length)
    config = model.config
    result = {
        "encoder": str(args.encoder),
        "dataset": dataset,
        "split": args.split,
        "n_sentences": len(sentences),
        "mean_words_input": float(np.mean([len(s.split()) for s in sentences])),
        "mean_words_decoded": float(np.mean([len(s.split()) for s in decoded])),
        "model": {"embed": config.embed_dim, "encoder_hidden": config.encoder_hidden_size,
                  "decoder_hidden": config.decoder_hidden_size, "latent": config.latent_dim,
                  "vocab": config.vocab_size},
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "repeats": args.repeats,
        "sentences_per_second": {name: len(sentences) / seconds for name, seconds in timings.items()},
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],  # other processes on the CPU slow every number down
        # With busy-waiting OpenMP threads (the default) a loaded CPU slows small LSTMs by orders of magnitude.
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    atomic.write_json(args.out, result)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
