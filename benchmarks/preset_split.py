"""How the cpu preset's split of its 22 epochs between Ours' two stages (autoencoder, then free bits) moves Table 8's
scores: Ours (pretrain-fb, λ = 6) trained at the cpu preset with each `pretrain_epochs` and seed, one process per
run (all at once on a GPU, one at a time on a CPU), then scored with few-label and gmm-cluster as
`probe reproduce table8` scores a row (task seed = the run's seed).

Prints and saves JSON: per run, its test AU/KL/MI/NLL, the few-label accuracies at 100-10k labels, the 0-label
(gmm-cluster) accuracy and its wall times. On one H100, four runs at once took 5.3 min to train and under 2 min to
score. `--preset tiny --device cpu` checks the script in a few minutes.

Usage: python benchmarks/preset_split.py [--device cuda] [--pretrain-epochs 6 10 14] [--seeds 783435] [--preset cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def train_and_score(run_dir: Path, seed: int, pretrain_epochs: int, preset: str, device: str,
                    data_dir: str | None) -> dict:
    """One run: the preset with `pretrain_epochs` of its epochs on the autoencoder, then table8's two tasks."""
    from probe.runner import run_tasks
    from tasks.few_label import FewLabel
    from vae import presets
    from vae.progress import show_library_bars
    from vae.train import TrainConfig, train_vae

    show_library_bars(False)
    presets.PRESETS[preset] = dataclasses.replace(presets.PRESETS[preset], pretrain_epochs=pretrain_epochs)
    started = time.perf_counter()
    metrics = train_vae(TrainConfig(dataset="yelp", method="pretrain-fb", lam=6.0, preset=preset, seed=seed,
                                    run_dir=str(run_dir), data_dir=data_dir, device=device, progress=False),
                        log=lambda _message: None)
    trained = time.perf_counter()
    results = run_tasks(str(run_dir), tasks="few-label,gmm-cluster", data_dir=data_dir,
                        leaderboard_path=run_dir.parent / f"{run_dir.name}.board.json",
                        cache_dir=run_dir.parent / f"{run_dir.name}.cache", seed=seed, device=device, progress=False,
                        log=lambda _message: None)
    scores = {result.task: dict(result.scores) for result in results}
    return {"seed": seed, "pretrain_epochs": pretrain_epochs, **{k: metrics[k] for k in ("au", "kl", "mi", "nll")},
            "few_label": {str(size): scores["few-label"][str(size)] for size in FewLabel().sizes},
            "few_label_std_100": scores["few-label"]["std_100"], "gmm_cluster": scores["gmm-cluster"]["accuracy"],
            "train_seconds": round(trained - started, 1), "score_seconds": round(time.perf_counter() - trained, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--preset", default="cpu", choices=["cpu", "tiny"])
    parser.add_argument("--pretrain-epochs", type=int, nargs="+", default=[6, 10, 14])
    parser.add_argument("--seeds", type=int, nargs="+", default=[783435])
    parser.add_argument("--out", default=str(RESULTS / "preset_split.json"))
    parser.add_argument("--worker", nargs=3, metavar=("RUN_DIR", "SEED", "PRETRAIN_EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_dir, seed, pretrain_epochs = args.worker
        print(json.dumps(train_and_score(Path(run_dir), int(seed), int(pretrain_epochs), args.preset, args.device,
                                         args.data_dir)))
        return

    runs = [(seed, split) for seed in args.seeds for split in args.pretrain_epochs]
    at_once = len(runs) if args.device.startswith("cuda") else 1  # two CPU cores take one run at a time
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as work:
        for first in range(0, len(runs), at_once):
            workers = [subprocess.Popen(
                [sys.executable, __file__, "--device", args.device, "--preset", args.preset,
                 *(["--data-dir", args.data_dir] if args.data_dir else []),
                 "--worker", str(Path(work) / f"seed{seed}-pre{split}"), str(seed), str(split)],
                stdout=subprocess.PIPE, text=True) for seed, split in runs[first:first + at_once]]
            for worker in workers:
                output, _ = worker.communicate()
                if worker.returncode != 0:
                    for other in workers:
                        other.kill()
                    raise SystemExit(f"a run failed (exit {worker.returncode}); its error is above")
                results.append(json.loads(output.strip().splitlines()[-1]))
                print(json.dumps(results[-1]), flush=True)
    import torch

    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    result = {"preset": args.preset, "device": device,
              "runs_at_once": at_once, "wall_seconds": round(time.perf_counter() - started, 1), "runs": results}
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
