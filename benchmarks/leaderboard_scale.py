"""How the leaderboard scales: a board of 1,000 entries x the paper's 7 tasks, with the per-example values and
extra data the real tasks record (tasks/*.py at their default sizes on 10k-sentence test splits).

    python benchmarks/leaderboard_scale.py                 # 1,000 entries, in a temporary folder
    python benchmarks/leaderboard_scale.py --entries 100 --keep /tmp/board   # measured again if kept there

Measures the main JSON's size (target < 5 MB), adding one result to the full board (target < 1 s), and
`probe leaderboard show` from a cold start in a subprocess (target <= 0.3 s wall), with the import time of what
`show` loads. Results are printed and written to benchmarks/results/leaderboard_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from leaderboard.examples import examples_dir, store_examples
from leaderboard.layout import board_text
from leaderboard.schema import Entry, Leaderboard, TaskResult
from leaderboard.store import add_result, load, load_examples
from leaderboard.summary import load_summary
from leaderboard.table import format_table, show_table
from probe_common.atomic import write_text
from probe_common.hashing import lines_sha256

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "leaderboard_scale.json"
TEST_SENTENCES = 10_000  # yelp and snli test splits
SMOOTHNESS_PAIRS = 100_000  # smoothness.n_pairs; it keeps no per-example list, 500 pairs in extra["scatter"]
PROBE = Path(sys.executable).with_name("probe")
WORDS = ("the food was great and the service friendly but a bit slow we will come back soon to try "
         "their pasta a man is riding a horse on the beach two dogs play in the snow").split()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="Timed repetitions; the median is reported.")
    parser.add_argument("--keep", type=Path, help="Build the board in this folder and keep it.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def sentences(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=rng.integers(6, 14))) for _ in range(n)]


def entry_meta(index: int) -> Entry:
    """An entry as the runner records a VAE run: its train_config.json, library versions, two datasets."""
    run = f"runs/yelp-pretrain-fb-lam{index}"
    config = {"dataset": "yelp", "method": "pretrain-fb", "lam": 6.0, "preset": "paper", "data_dir": "/data",
              "valid": None, "test": None, "run_dir": run, "device": "cuda", "seed": index, "epochs": None,
              "max_train_sentences": None, "iw_samples": 1000, "free_bits_per": "example", "resume": False,
              "progress": False, "model_size": {"vocab_size": 9352, "embed_dim": 128, "encoder_hidden_size": 512,
                                                "decoder_hidden_size": 512, "latent_dim": 32, "use_latent": True}}
    versions = {"python": "3.12.3", "probe": "0.1.0", "torch": "2.13.0", "numpy": "2.3.1", "scikit-learn": "1.7.0",
                "scipy": "1.16.0", "transformers": "5.0.0", "tokenizers": "0.22.0", "sacrebleu": "2.5.1"}
    return Entry(entry_id=f"yelp-pretrain-fb-lam6-seed{index}", encoder_source=run, weights_sha256=f"{index:064x}",
                 method="pretrain-fb", training_config=config, versions=versions,
                 dataset_hashes={"yelp": f"{index + 1:064x}", "snli": f"{index + 2:064x}"})


def results_of(rng: np.random.Generator) -> list[TaskResult]:
    """One encoder's 7 results, shaped as the tasks write them (per_example lengths, extra contents)."""
    run = {"seed": 0, "max_sentences": None, "encode_seconds": round(float(rng.uniform(1, 30)), 3)}
    common = dict(split="test", seconds=float(rng.uniform(1, 600)))

    def result(task, dataset, name, label, higher, plot, ref, scores, extra, per_example=None, **fields):
        # Every entry evaluates the same test sentences (tasks.base.example_ids_hash), hence the same hash.
        ids_hash = lines_sha256([task, dataset])
        return TaskResult(task=task, dataset=dataset, main_score_name=name, main_score_label=label,
                          example_ids_hash=ids_hash,
                          higher_is_better=higher, plot=plot, paper_ref=ref, main_score=scores[name], scores=scores,
                          per_example=per_example, extra={**extra, **run}, **{**common, **fields})

    correct = (rng.random(TEST_SENTENCES) < 0.8).astype(float)
    gmm = result("gmm-cluster", "yelp", "accuracy", "accuracy", True, None, "Table 8 (0 labels), Section 3.3",
                 {"accuracy": correct.mean(), "valid_accuracy": rng.integers(6000, 9000) / 10_000},
                 {"n_components": 10, "component_labels": rng.integers(0, 2, 10).tolist(), "converged": True,
                  "n_iter": 37}, correct.tolist(), n_examples=TEST_SENTENCES,
                 ci95=(round(correct.mean() - 0.008, 4), round(correct.mean() + 0.008, 4)))
    sizes = (100, 500, 1000, 2000, 10_000)
    # Accuracies are counts over the 10k test sentences, so they print short (0.8123); spreads do not.
    per_seed = {str(s): (rng.integers(6000, 9000, 5) / 10_000).tolist() for s in sizes}
    fractions = rng.integers(0, 6, TEST_SENTENCES) / 5  # fraction of the 5 seeds right on each test example
    scores = {"accuracy": float(fractions.mean())}
    for s in sizes:
        scores[str(s)] = float(np.mean(per_seed[str(s)]))
        scores[f"std_{s}"] = float(np.std(per_seed[str(s)], ddof=1))
    few = result("few-label", "yelp", "accuracy", "accuracy", True, "label-curve", "Table 8, Section 3.3", scores,
                 {"curve": {str(s): scores[str(s)] for s in sizes}, "main_size": 10_000, "classifier": "linear-sgd",
                  "features": "raw codes, not standardised",
                  "chosen_epochs": {str(s): rng.integers(5, 100, 5).tolist() for s in sizes},
                  "label_subsets": {str(s): f"train.{s}.tsv" for s in sizes}},
                 fractions.tolist(), n_examples=TEST_SENTENCES, per_seed={"accuracy": per_seed["10000"], **per_seed},
                 ci95=(round(scores["accuracy"] - 0.01, 5), round(scores["accuracy"] + 0.01, 5)))
    latent, edit = rng.uniform(0, 8, 500), rng.integers(1, 30, 500)
    smooth = result("smoothness", "snli", "pcc", "Pearson correlation", True, "smoothness-scatter",
                    "Table 5, Section 3.2",
                    {"pcc": float(rng.uniform(0.2, 0.6)), "mean_latent_distance": 4.1, "mean_edit_distance": 11.3},
                    {"scatter": np.round(np.stack([latent, edit], axis=1), 4).tolist()}, n_examples=SMOOTHNESS_PAIRS,
                    ci95=(0.3, 0.34))
    texts = sentences(rng, 10)
    bleu = result("recon-bleu", "snli", "bleu", "BLEU", True, None, "Table 4, Section 3.2",
                  {"bleu": float(rng.uniform(10, 90))},
                  {"examples": [{"input": t, "reference": t, "reconstruction": s}
                                for t, s in zip(texts, sentences(rng, 10))],
                   "n_bootstrap": 200, "max_length": 100, "references": "model-vocabulary"},
                  n_examples=TEST_SENTENCES, ci95=(40.0, 42.0))
    losses = rng.gamma(9, 5, (4, TEST_SENTENCES))
    per_sentence = losses.mean(axis=0)
    scores = {f"k{k}": float(losses[k - 1].mean()) for k in (1, 2, 3, 4)} | {"mean_over_k": float(per_sentence.mean())}
    noisy = result("noisy-recon", "snli", "mean_over_k", "reconstruction loss (nats)", False, "k-curve",
                   "Table 6, Section 3.2", scores,
                   {"curve": {str(k): scores[f"k{k}"] for k in (1, 2, 3, 4)},
                    "examples": [{"clean": t, **{f"k{k}": t for k in (1, 2, 3, 4)}} for t in texts[:3]]},
                   per_sentence.tolist(), n_examples=TEST_SENTENCES, ci95=(44.0, 46.0))
    distinct = rng.integers(1, 12, 20).astype(float)
    ends = sentences(rng, 20)
    interpolation = result(
        "interpolation", "snli", "distinct_per_path", "distinct sentences per path", None, "interpolations",
        "Appendix D",
        {"distinct_per_path": float(distinct.mean()), "distinct_per_path_prior": float(distinct[:10].mean()),
         "distinct_per_path_posterior": float(distinct[10:].mean())},
        {"interpolations": [{"kind": "prior" if i < 10 else "posterior", "source": ends[i] if i >= 10 else None,
                             "target": ends[19 - i] if i >= 10 else None, "sentences": sentences(rng, 11)}
                            for i in range(20)], "t": np.linspace(0, 1, 11).tolist()},
        distinct.tolist(), n_examples=20, ci95=(4.0, 6.0))
    lm_scores = {"nll": 33.1, "ppl": float(rng.uniform(30, 80)), "recon": 30.2, "kl": 6.1, "elbo": 36.3, "mi": 5.2,
                 "au": 32.0, "elbo_ppl": 70.1, "iw_samples": 1000.0}
    lm = result("lm", "yelp", "ppl", "perplexity", False, None, "Section 2.1; Tables 1-3, 10-11", lm_scores,
                {"n_tokens": 104_873}, n_examples=TEST_SENTENCES)
    return [gmm, few, smooth, bleu, noisy, interpolation, lm]


def build_board(path: Path, n_entries: int) -> dict:
    """The board written once (adding 7,000 results one by one would rewrite the file 7,000 times)."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    board = Leaderboard()
    for index in range(n_entries):
        meta = entry_meta(index)
        for result in results_of(rng):
            board.add_result(meta, store_examples(path, result))
    write_text(path, board_text(board))
    return {"build_seconds": round(time.perf_counter() - started, 1)}


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


def subprocess_seconds(command: list[str], repeats: int) -> float:
    def run():
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    run()  # warms the page cache, not the interpreter: every run is a fresh process
    return median_seconds(run, repeats)


def import_times(path: Path) -> dict:
    """-X importtime of `probe leaderboard show`: milliseconds of import work per top-level package."""
    code = ("import sys; from probe.cli import app; sys.argv = ['probe', 'leaderboard', 'show', '--leaderboard', "
            f"{str(path)!r}]\ntry:\n    app()\nexcept SystemExit:\n    pass")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True, capture_output=True,
                          text=True)
    by_package: dict[str, int] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            by_package[package] = by_package.get(package, 0) + int(match.group(1))
    top = dict(sorted(by_package.items(), key=lambda item: -item[1])[:8])
    return {name: round(us / 1000, 1) for name, us in top.items()} | {"all": round(sum(by_package.values()) / 1000, 1)}


def measure(path: Path, repeats: int) -> dict:
    examples = examples_dir(path)
    sidecars = list(examples.iterdir())
    board = load(path)
    some_entry = next(iter(board.entries.values()))
    few_label = some_entry.results["few-label/yelp"]
    figures = {
        "main_json_bytes": path.stat().st_size,
        "main_json_mb": round(path.stat().st_size / 1e6, 2),
        "sidecar_files": len(sidecars),
        "sidecar_total_mb": round(sum(p.stat().st_size for p in sidecars) / 1e6, 1),
        "few_label_sidecar_kb": round((examples / f"{few_label.examples_sha256}.json.gz").stat().st_size / 1e3, 1),
        "load_seconds_in_process": median_seconds(lambda: load(path), repeats),
        "load_summary_seconds_in_process": median_seconds(lambda: load_summary(path), repeats),
        # What `show` does after its imports: read the summary, build and format the table.
        "show_in_process_seconds": median_seconds(lambda: format_table(*show_table(load_summary(path))), repeats),
        "load_examples_seconds_few_label": median_seconds(lambda: load_examples(path, few_label), repeats),
    }
    rng = np.random.default_rng(1)
    new_results = iter(results_of(rng) * (2 * repeats))
    # A re-run of an existing entry's few-label (the old result goes to history) and a new entry's result.
    figures["add_result_rerun_seconds"] = median_seconds(
        lambda: add_result(path, entry_meta(0), next(r for r in new_results if r.task == "few-label")), repeats)
    counter = iter(range(10**6, 10**7))
    figures["add_result_new_entry_seconds"] = median_seconds(
        lambda: add_result(path, entry_meta(next(counter)), next(r for r in new_results if r.task == "few-label")),
        repeats)
    figures["python_startup_seconds"] = subprocess_seconds([sys.executable, "-c", "pass"], repeats)
    figures["import_pydantic_seconds"] = subprocess_seconds(
        [sys.executable, "-c", "import pydantic; from pydantic import BaseModel"], repeats)
    figures["import_show_modules_seconds"] = subprocess_seconds(
        [sys.executable, "-c", "import probe.cli, typer.main; from leaderboard import load_summary, show_table"],
        repeats)
    figures["show_cold_seconds"] = subprocess_seconds([str(PROBE), "leaderboard", "show", "--leaderboard",
                                                       str(path)], repeats)
    figures["show_import_ms_by_package"] = import_times(path)
    return figures


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "leaderboard.json"
        report = {"entries": args.entries, "tasks_per_entry": 7, "python": platform.python_version(),
                  "machine": platform.machine(), "cpus": os.cpu_count()}
        if path.exists():  # a board kept by an earlier run: measured as it is
            report |= {"entries": len(load_summary(path).entries), "reused": str(path)}
        else:
            report |= build_board(path, args.entries)
        report |= measure(path, args.repeats)
    report["targets"] = {"main_json_mb": "< 5", "add_result_seconds": "< 1", "show_cold_seconds": "<= 0.3"}
    text = json.dumps(report, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
