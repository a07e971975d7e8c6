"""How OpenMP's wait policy and the allocator setting change training speed through the command line.

Runs one epoch of `probe train-vae yelp --method vae --preset cpu` (32,000 sentences, the yelp paper sizes) in fresh
processes, interleaved, under:
- `passive`: OMP_WAIT_POLICY=PASSIVE (torch's threads sleep between parallel regions, as the command line
  forced before);
- `default`: the variable unset (libgomp's threads spin briefly before sleeping), as the command line runs now;
- `default_glibc_trim`: as `default` with glibc's allocator left to its defaults (probe_common.allocator off).
Prints and saves JSON: each variant's training sentences/s (median over repeats), its ratio to `passive`, and
whether every run gave the same training loss to the last bit.
Usage: python benchmarks/omp_wait_policy.py [--repeats 2] [--max-train-sentences 32000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
# The command line, started as `probe` starts it; the last variant first switches the allocator setting off.
LAUNCH = "from probe.cli import app; app()"
WITHOUT_ALLOCATOR = "import vae.device as device; device.keep_freed_memory = lambda: False; " + LAUNCH
VARIANTS = {"passive": ({"OMP_WAIT_POLICY": "PASSIVE"}, LAUNCH),
            "default": ({}, LAUNCH),
            "default_glibc_trim": ({}, WITHOUT_ALLOCATOR)}


def one_epoch(environment: dict, launch: str, sentences: int, run_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"} | environment
    command = [sys.executable, "-c", launch, "train-vae", "yelp", "--method", "vae", "--preset", "cpu",
               "--epochs", "1", "--max-train-sentences", str(sentences), "--iw-samples", "2", "--seed", "783435",
               "--run-dir", str(run_dir), "--no-progress"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    return json.loads((run_dir / "log.jsonl").read_text().splitlines()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-train-sentences", type=int, default=32_000)
    parser.add_argument("--out", default=str(RESULTS / "omp_wait_policy.json"))
    args = parser.parse_args()
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    losses = set()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for name, (environment, launch) in VARIANTS.items():
                row = one_epoch(environment, launch, args.max_train_sentences, Path(scratch) / f"{name}-{repeat}")
                rates[name].append(row["train_sentences_per_s"])
                losses.add(row["train_loss"])
                print(f"{name}: {row['train_sentences_per_s']:.1f} sentences/s", flush=True)
    median = {name: statistics.median(values) for name, values in rates.items()}
    result = {
        "command": "probe train-vae yelp --method vae --preset cpu --epochs 1", "cpu_count": os.cpu_count(),
        "max_train_sentences": args.max_train_sentences, "repeats": args.repeats,
        "train_sentences_per_s": rates, "median_sentences_per_s": median,
        "speedup_vs_passive": {name: rate / median["passive"] for name, rate in median.items()},
        "same_training_loss_in_every_run": len(losses) == 1, "wall_seconds": time.perf_counter() - started,
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
