"""Whether TF32 on a GPU changes what a VAE learns: the tiny preset's Ours (pretrain-fb, λ = 6) and VAE rows on Yelp,
trained in IEEE fp32 (the product: vae.device.use_ieee_fp32) and with torch's default TF32 in cuDNN's LSTMs and
cuBLAS, for a few seeds, in the same process.

Prints and saves JSON: each run's test AU, KL, MI and NLL (the tiny preset's 300 test sentences, 20 importance
samples) and its wall time. Usage: python benchmarks/tf32_quality.py [--device cuda] [--seeds 783435 1 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

import vae.device
from vae.train import TrainConfig, train_vae

RESULTS = Path(__file__).parent / "results"
ROWS = {"ours": {"method": "pretrain-fb", "lam": 6.0}, "vae": {"method": "vae"}}


def allow_tf32() -> None:
    """Torch's defaults on a GPU: cuDNN's LSTMs in TF32, and cuBLAS too (as this project set it before)."""
    vae.device.set_fp32_precision("tf32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[783435, 1, 2])
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--out", default=str(RESULTS / "tf32_quality.json"))
    args = parser.parse_args()

    ieee = vae.device.use_ieee_fp32
    modes = {"ieee": ieee, "tf32": allow_tf32} if args.device.startswith("cuda") else {"ieee": ieee}
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for seed in args.seeds:
            for row in args.rows:
                for mode, setting in modes.items():
                    vae.device.use_ieee_fp32 = setting  # configure_backends looks it up at each run's start
                    config = TrainConfig(dataset="yelp", preset="tiny", data_dir=args.data_dir, device=args.device,
                                         seed=seed, precision="fp32", progress=False,
                                         run_dir=str(Path(work) / f"{row}-{mode}-{seed}"), **ROWS[row])
                    started = time.perf_counter()
                    metrics = train_vae(config, log=lambda _message: None)
                    runs.append({"row": row, "mode": mode, "seed": seed,
                                 **{k: metrics[k] for k in ("au", "kl", "mi", "nll")},
                                 "seconds": round(time.perf_counter() - started, 1)})
                    print(json.dumps(runs[-1]), flush=True)
    vae.device.use_ieee_fp32 = ieee
    result = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu", "runs": runs}
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
