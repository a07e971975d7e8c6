#!/usr/bin/env bash
# One GPU check in at most 8 minutes (GPU_CHECK_SECONDS): install, the test suite on CUDA, throughput at the paper
# sizes (the product's precision and bf16), one paper-preset epoch per stage of train-vae on the full 100K Yelp
# sentences, a same-seed determinism check, and Table 8's Ours (pretrain-fb) and VAE rows at the paper preset in the
# time left (their epoch times). Prints one JSON (and writes it to $OUT or benchmarks/results/). On an H100 it ran in
# 460 s (2026-11-27).
#
# Usage: PROBE_DATA_DIR=/path/to/data bash benchmarks/gpu_check.sh
# Wheels for packages the machine lacks may be put in .whl/ (installed first, without dependencies). An image
# with torch, transformers, typer and sacrebleu but nothing else of ours needed: datasets, dill, multiprocess,
# levenshtein, python-levenshtein, rapidfuzz, pydantic, pydantic-core, annotated-types, typing-inspection and
# typing-extensions, and pytest-xdist and execnet for the parallel suite (pip download --only-binary=:all:
# --no-deps for the machine's Python).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
: "${PROBE_DATA_DIR:?set PROBE_DATA_DIR to the folder holding yelp/}"
RESULTS="${OUT:-benchmarks/results}"
mkdir -p "$RESULTS"
WORK="$(mktemp -d)"
LOG="$RESULTS/gpu_check.log"
: >"$LOG"

# Every step's limit is cut to what is left of the script's budget (GPU_CHECK_SECONDS, 8 minutes by default) less
# the report's few seconds, so the script ends in time and still prints its JSON; a step with no time left is skipped.
BUDGET="${GPU_CHECK_SECONDS:-480}"
step() {  # step NAME SECONDS COMMAND...: run with a time limit, record wall time and exit status
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET - SECONDS - 20))
  if [ "$left" -lt "$limit" ]; then limit=$left; fi
  if [ "$limit" -lt 10 ]; then
    echo "== $name: skipped, the budget is spent" | tee -a "$LOG"
    echo "\"$name\": {\"exit\": \"skipped\", \"seconds\": 0}," >>"$WORK/steps"
    return
  fi
  local started=$SECONDS
  echo "== $name (limit ${limit} s)" | tee -a "$LOG"
  timeout "$limit" "$@" >>"$LOG" 2>&1
  local status=$?
  echo "\"$name\": {\"exit\": $status, \"seconds\": $((SECONDS - started)), \"limit\": $limit}," >>"$WORK/steps"
  tail -n 3 "$LOG"
}

if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$WORK/site" .whl/*.whl
  export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 -m pip install -q --no-deps --no-build-isolation --target "$WORK/site" . >>"$LOG" 2>&1
export PYTHONPATH="$PWD:$WORK/site${PYTHONPATH:+:$PYTHONPATH}" PATH="$WORK/site/bin:$PATH"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"

python3 -c "import torch, transformers, datasets, pyarrow; print('torch', torch.__version__, 'transformers',
  transformers.__version__, 'datasets', datasets.__version__, 'pyarrow', pyarrow.__version__)" | tee -a "$LOG"

# The suite on CUDA, in 8 workers when pytest-xdist is there (a wheel in .whl/ will do).
if python3 -c "import xdist" 2>/dev/null; then WORKERS=(-n 8); else WORKERS=(); fi
OMP_NUM_THREADS=2 step tests 180 python3 -m pytest -q -p no:cacheprovider "${WORKERS[@]}"
for precision in auto bf16; do
  step "throughput-$precision" 60 python3 benchmarks/train_throughput.py --device cuda --steps 200 \
    --iw-sentences 200 --precision "$precision" --out "$RESULTS/train_throughput_gpu_$precision.json"
done
# One whole paper-preset run (one epoch per stage): training, test metrics and the export.
step paper-epoch 120 python3 -m probe.cli train-vae yelp --preset paper --epochs 1 --iw-samples 100 \
  --run-dir "$WORK/paper-epoch" --no-progress
for run in a b; do
  step "seed-$run" 45 python3 -m probe.cli train-vae yelp --preset paper --epochs 1 --max-train-sentences 3000 \
    --iw-samples 20 --run-dir "$WORK/seed-$run" --no-progress
done
# Table 8's Ours and VAE rows at the paper preset, each as far as it gets in its share of the time left (at most 90 s;
# resumable, like any row).
ROW_SECONDS=$(((BUDGET - SECONDS - 20) / 2)); if [ "$ROW_SECONDS" -gt 90 ]; then ROW_SECONDS=90; fi
for row in ours vae; do
  step "paper-$row" "$ROW_SECONDS" python3 -m probe.cli reproduce table8 --preset paper --rows "$row" --out "$WORK/repro" \
    --no-progress
done

python3 - "$WORK" "$RESULTS" <<'EOF'
import json, pathlib, shutil, sys
work, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def read(path):
    return json.loads(path.read_text()) if path.is_file() else None
def epochs(run_dir):
    """Each finished epoch of a run, as its log.jsonl records it (the log is also copied beside the report)."""
    log = run_dir / "log.jsonl"
    if not log.is_file():
        return None
    shutil.copy(log, results / f"{run_dir.name}.log.jsonl")
    return [json.loads(line) for line in log.read_text().splitlines()]
report = {
    "steps": json.loads("{" + (work / "steps").read_text().rstrip().rstrip(",") + "}"),
    "throughput": {p: read(results / f"train_throughput_gpu_{p}.json") for p in ("auto", "bf16")},
    "paper_epoch": {"epochs": epochs(work / "paper-epoch"), "test": read(work / "paper-epoch" / "metrics.json")},
    "paper_rows": {run.name: epochs(run) for run in sorted((work / "repro" / "runs").glob("*"))},
}
a, b = read(work / "seed-a" / "metrics.json"), read(work / "seed-b" / "metrics.json")
report["same_seed_identical"] = None if a is None or b is None else {
    k: (a[k], b[k]) for k in a if a[k] != b[k] and k not in ("seconds", "sentences_per_s")} or True
(results / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report, indent=2))
EOF
