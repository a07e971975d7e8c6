"""Whether a faster numeric mode trains as well as fp32 on the CPU: the tiny preset's Ours row (pretrain-fb, λ = 6) on
Yelp, seed by seed, in each mode, in one process.

Modes: `fp32` (what `auto` trains in); `fp32_perturbed`, fp32 from initial weights scaled by 1 + 2^-20 (the control:
how far a seed's result moves when only the last bits change); `bf16` (the product's `--precision bf16`: the
output layer under bf16 autocast); `bf16_matrix_math` and `bf16_matrix_math_lstms`, two modes that are not in the
product (benchmarks/precision_modes.py). Each exported model is also scored again in IEEE fp32 with the same
importance samples, so that every mode's NLL is measured alike.

Prints and saves JSON: each run's test AU, KL, MI and NLL, and per mode the NLL's difference from the same seed's
fp32 run. Usage: python benchmarks/cpu_precision_quality.py [--seeds 783435 1 2 3 4] [--modes ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from precision_modes import bf16_lstm_kernels, bf16_matrix_math, perturbed_initialisation
from vae.data import EqualLengthBatcher, load_corpus
from vae.data.tokenizer import encode
from vae.loading import load_textvae
from vae.metrics import evaluate_lm
from vae.train import TrainConfig, train_vae

RESULTS = Path(__file__).parent / "results"
TEST_SENTENCES, IW_SAMPLES = 300, 20  # the tiny preset's test cap and importance samples


@contextlib.contextmanager
def bf16_math_with_lstms():
    with bf16_matrix_math(), bf16_lstm_kernels():
        yield


# mode -> (the product's --precision, the context the run trains in)
MODES = {
    "fp32": ("fp32", contextlib.nullcontext),
    "fp32_perturbed": ("fp32", perturbed_initialisation),
    "bf16": ("bf16", contextlib.nullcontext),
    "bf16_matrix_math": ("fp32", bf16_matrix_math),
    "bf16_matrix_math_lstms": ("fp32", bf16_math_with_lstms),
}


def rescored_nll(run_dir: Path, test_sentences: list[str]) -> float:
    model, tokenizer = load_textvae(run_dir, torch.device("cpu"))
    batcher = EqualLengthBatcher(encode(tokenizer, test_sentences), batch_size=32)
    return evaluate_lm(model, batcher, "cpu", iw_samples=IW_SAMPLES, seed=0, precision="fp32").nll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[783435, 1, 2, 3, 4])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--out", default=str(RESULTS / "cpu_precision_quality.json"))
    args = parser.parse_args()
    modes = ["fp32"] + [mode for mode in args.modes if mode != "fp32"]  # the reference first
    test_sentences = load_corpus("yelp", "test", args.data_dir).head(TEST_SENTENCES).sentences

    runs = []
    with tempfile.TemporaryDirectory() as work:
        for seed in args.seeds:
            for mode in modes:
                precision, context = MODES[mode]
                run_dir = Path(work) / f"{mode}-{seed}"
                config = TrainConfig(dataset="yelp", method="pretrain-fb", lam=6.0, preset="tiny", device="cpu",
                                     data_dir=args.data_dir, seed=seed, precision=precision, progress=False,
                                     run_dir=str(run_dir))
                started = time.perf_counter()
                with context():
                    metrics = train_vae(config, log=lambda _message: None)
                seconds = time.perf_counter() - started
                runs.append({"mode": mode, "seed": seed, **{k: metrics[k] for k in ("au", "kl", "mi", "nll")},
                             "nll_fp32_rescored": rescored_nll(run_dir, test_sentences), "seconds": round(seconds, 1)})
                print(json.dumps(runs[-1]), flush=True)

    reference = {run["seed"]: run for run in runs if run["mode"] == "fp32"}
    summary = {}
    for mode in modes[1:]:
        differences = [100 * (run["nll_fp32_rescored"] / reference[run["seed"]]["nll_fp32_rescored"] - 1)
                       for run in runs if run["mode"] == mode]
        summary[mode] = {"nll_rel_diff_percent_by_seed": [round(d, 2) for d in differences],
                         "mean_abs_nll_rel_diff_percent": round(statistics.mean(map(abs, differences)), 2),
                         "seeds_within_1_percent": sum(abs(d) <= 1 for d in differences),
                         "au_by_seed": [run["au"] for run in runs if run["mode"] == mode]}
    summary["fp32"] = {"au_by_seed": [run["au"] for run in reference.values()]}
    result = {"device": "cpu", "torch_threads": torch.get_num_threads(), "seeds": args.seeds, "runs": runs,
              "vs_fp32_same_seed": summary}
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
