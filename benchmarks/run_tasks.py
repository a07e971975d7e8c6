"""Cost of `probe run-tasks`: wall time and peak memory of the representation tasks on Yelp (100k train /
10k valid / 10k test sentences by default) for a paper-size encoder, and the decoding tasks' sentences per
second for a VAE run.

    python benchmarks/run_tasks.py                                   # random-lstm, full Yelp, CPU
    python benchmarks/run_tasks.py --max-sentences 5000 --decoding-run runs/snli-pretrain-fb-lam4

The embedding cache starts empty (a temp folder), so encoding time is included. Results are printed and
written to benchmarks/results/run_tasks.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import torch

from probe.runner import run_tasks
from tasks.interpolation import Interpolation
from tasks.lm import LanguageModelling
from tasks.registry import get_task

REPRESENTATION_TASKS = ("gmm-cluster", "few-label", "smoothness")
DECODING_TASKS = ("recon-bleu", "noisy-recon", "interpolation", "lm")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "run_tasks.json"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="random-lstm", help="Encoder of the representation tasks "
                        "(default random-lstm: an untrained encoder of the paper's size).")
    parser.add_argument("--dataset", default="yelp", help="Dataset of the representation tasks.")
    parser.add_argument("--data-dir", default=None, help="Default: $PROBE_DATA_DIR.")
    parser.add_argument("--max-sentences", type=int, default=None, help="First N sentences of each split "
                        "(default: all; Yelp has 100k train, 10k valid, 10k test).")
    parser.add_argument("--decoding-run", default=None, help="A VAE run dir: also time the decoding tasks.")
    parser.add_argument("--decoding-sentences", type=int, default=1000, help="Test sentences per decoding task.")
    parser.add_argument("--lm-iw-samples", type=int, default=1000, help="Importance samples of the lm task "
                        "(the paper: 1000).")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tracemalloc", action="store_true", help="Skip tracemalloc (it slows Python code).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def measure(label: str, run, trace: bool) -> dict:
    """Run, timing it and recording the peak RSS and (optionally) the peak traced Python/numpy heap."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    results = run()
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()
    row = {"label": label, "wall_seconds": round(seconds, 2), "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
           "peak_traced_mib": None if traced is None else round(traced, 1), "tasks": {}}
    for result in results:
        row["tasks"][result.task] = {
            "status": result.status, "main_score": result.main_score, "n_examples": result.n_examples,
            "seconds": round(result.seconds, 2), "encode_seconds": result.extra.get("encode_seconds"),
        }
    return row


def decoding_tasks(iw_samples: int) -> list:
    return [LanguageModelling(iw_samples=iw_samples) if name == "lm" else get_task(name) for name in DECODING_TASKS]


def main(argv=None) -> dict:
    args = parse_args(argv)
    trace = not args.no_tracemalloc
    # The load average says whether other work shared the CPUs (timings scale with it).
    report = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.machine(), "cpus": os.cpu_count(),
              "torch_threads": torch.get_num_threads(), "load_average_before": os.getloadavg(),
              # Busy-waiting OpenMP threads (the default) make small LSTMs several times slower on a shared CPU.
              "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
              "device": args.device, "args": {
                  k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as scratch:
        common = dict(data_dir=args.data_dir, leaderboard_path=Path(scratch) / "leaderboard.json",
                      cache_dir=Path(scratch) / "cache", seed=args.seed, device=args.device, progress=True, log=print)
        report["runs"].append(measure(
            f"representation tasks, {args.encoder} on {args.dataset}",
            lambda: run_tasks(args.encoder, tasks=list(REPRESENTATION_TASKS), dataset=args.dataset,
                              max_sentences=args.max_sentences, **common), trace))
        if args.decoding_run:
            tasks = decoding_tasks(args.lm_iw_samples)
            row = measure(
                f"decoding tasks, {args.decoding_run} ({args.decoding_sentences} sentences each)",
                lambda: run_tasks(args.decoding_run, tasks=tasks, max_sentences=args.decoding_sentences, **common),
                trace)
            # Interpolation's examples are paths of n_points decoded sentences each.
            per_example = {t.info.name: t.n_points for t in tasks if isinstance(t, Interpolation)}
            for name, task in row["tasks"].items():
                if task["status"] == "ok" and task["seconds"] > 0:
                    decoded = task["n_examples"] * per_example.get(name, 1)
                    task["sentences_per_second"] = round(decoded / task["seconds"], 1)
            report["runs"].append(row)
    report["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["runs"], indent=2))
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
