"""The project against the textbook yardstick (benchmarks/yardstick.py), timed in one process in interleaved blocks.

At the yelp paper sizes (128/512/512, nz 32) on the same batches of one length:
- training sentences/s of the yardstick (fp32) and of the project in fp32 and in bf16 (`--precision`);
- importance-weighted NLL at 1,000 samples: the yardstick scores one sentence per call in chunks of 100 samples
  (as the authors' evaluation); the project scores in fp32 and bf16 with the same samples, and the bf16 NLL/PPL
  are compared with the fp32 ones;
- achieved GFLOP/s against fp32 and bf16 matmul peaks measured in the same process; peak memory;
- two modes that are not in the product (benchmarks/precision_modes.py): `fp32_bf16_matrix_math`, fp32 with oneDNN
  multiplying in bf16 with fp32 results; and the ceiling `ceiling_bf16_lstms`, that plus both LSTMs in oneDNN's
  bf16 kernels, which the product keeps in fp32 for quality (benchmarks/cpu_precision_quality.py measures it);
- with `--compile`, the product's loss under torch.compile (inductor; the LSTMs stay eager kernels) in fp32 and
  bf16, which the product does not use (compiled before the timing; its compile time is reported).
Usage: python benchmarks/speed_vs_yardstick.py [--blocks 3] [--block-steps 40] [--warm-steps 300]
       [--compile] [--iw-only] [--iw-decoder-tokens 8192 32768]  (the IW comparison alone; decoder-token budgets to compare)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from train_throughput import matmul_peak_gflops, peak_memory_mb, training_flops_per_token
from vae.configuration_textvae import TextVAEConfig
from vae.data import EqualLengthBatcher, build_tokenizer, load_corpus
from vae.data.tokenizer import encode
from vae.device import decoder_token_budget
from vae.objectives import FreeBits
from vae.metrics import evaluate_lm
from vae import modeling_textvae as modeling
from vae.modeling_textvae import TextVAEModel
from vae.precision import autocast, resolve_precision
from precision_modes import bf16_lstm_kernels, bf16_matrix_math
from yardstick import TextbookVAE, train_step

RESULTS = Path(__file__).parent / "results"
LAM = 6.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--train-sentences", type=int, default=10_000)
    parser.add_argument("--blocks", type=int, default=3, help="interleaved timing blocks per variant")
    parser.add_argument("--block-steps", type=int, default=40, help="training steps per block")
    parser.add_argument("--warm-steps", type=int, default=300, help="training steps before the IW comparison")
    parser.add_argument("--iw-sentences", type=int, default=12)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--iw-only", action="store_true", help="skip the training comparison")
    parser.add_argument("--compile", action="store_true", help="also time the loss under torch.compile")
    parser.add_argument("--iw-decoder-tokens", type=int, nargs="*", default=None,
                        help="decoder-token budgets of the bf16 IW evaluation to compare (default: the product's)")
    parser.add_argument("--scoring-chunk-rows", type=int, nargs="*", default=None,
                        help="output-layer rows per chunk to compare in that sweep (default: the product's)")
    parser.add_argument("--out", default=None, help="default: results/speed_vs_yardstick[_iw].json")
    args = parser.parse_args()
    args.out = args.out or str(RESULTS / f"speed_vs_yardstick{'_iw' if args.iw_only else ''}.json")
    if args.scoring_chunk_rows and not args.iw_decoder_tokens:
        parser.error("--scoring-chunk-rows sweeps with --iw-decoder-tokens: give both")

    device = torch.device("cpu")
    torch.manual_seed(0)
    train = load_corpus("yelp", "train", args.data_dir).head(args.train_sentences)
    tokenizer = build_tokenizer(train.sentences)
    batcher = EqualLengthBatcher(encode(tokenizer, train.sentences), batch_size=32)
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=128, encoder_hidden_size=512,
                           decoder_hidden_size=512, latent_dim=32)
    model = TextVAEModel(config).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, foreach=True)
    yardstick = TextbookVAE(len(tokenizer))
    yardstick_optimizer = torch.optim.SGD(yardstick.parameters(), lr=0.5)
    rng = np.random.default_rng(0)

    def project_loss(batch):
        return FreeBits(lam=LAM).loss(model, batch, kl_weight=1.0).loss

    compiled_loss = torch.compile(project_loss, dynamic=True) if args.compile else None

    def project_steps(batches, precision: str, loss_of=project_loss) -> None:
        for batch in batches:
            with autocast(device, precision):
                loss = loss_of(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0, foreach=True)
            optimizer.step()

    def bf16_matrix_math_steps(batches) -> None:
        with bf16_matrix_math():
            project_steps(batches, "fp32")

    def ceiling_steps(batches) -> None:
        with bf16_matrix_math(), bf16_lstm_kernels():
            project_steps(batches, "fp32")

    def yardstick_steps(batches) -> None:
        for batch in batches:
            train_step(yardstick, yardstick_optimizer, batch.input_ids, LAM / 32)

    variants = {"yardstick_fp32": yardstick_steps,
                "probe_fp32": lambda b: project_steps(b, "fp32"),
                "probe_bf16": lambda b: project_steps(b, "bf16"),
                "fp32_bf16_matrix_math": bf16_matrix_math_steps,
                "ceiling_bf16_lstms": ceiling_steps}
    compile_seconds = {}
    if compiled_loss is not None:
        for precision in ("fp32", "bf16"):
            variants[f"probe_{precision}_compiled"] = lambda b, p=precision: project_steps(b, p, compiled_loss)
            started = time.perf_counter()  # compiles for each batch length's shape kind and each precision
            warm = np.random.default_rng(1).integers(len(batcher), size=20)  # leaves the timed batches as without
            variants[f"probe_{precision}_compiled"]([batcher.batch(int(i)) for i in warm])
            compile_seconds[precision] = round(time.perf_counter() - started, 1)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for block in range(0 if args.iw_only else args.blocks + 1):  # block 0 warms up every variant
        batches = [batcher.batch(int(i)) for i in rng.integers(len(batcher), size=args.block_steps)]
        sentences = sum(b.input_ids.size(0) for b in batches)
        tokens = sum(int(b.lengths.sum()) for b in batches)
        for name, run in variants.items():
            started = time.perf_counter()
            run(batches)
            if block:
                samples[name].append((sentences / (time.perf_counter() - started), tokens / sentences))
    training = {name: statistics.median(s for s, _ in values) for name, values in samples.items() if values}
    tokens_per_sentence = statistics.mean([t for values in samples.values() for _, t in values] or [0.0])

    # A model that has learnt something, so that the IW comparison is not of near-uniform distributions.
    project_steps([batcher.batch(int(i)) for i in rng.integers(len(batcher), size=args.warm_steps)], "bf16")
    model.eval()
    yardstick.eval()
    test = load_corpus("yelp", "test", args.data_dir).head(args.iw_sentences)
    test_ids = encode(tokenizer, test.sentences)
    test_batcher = EqualLengthBatcher(test_ids, batch_size=32)
    iw = {}
    budget = decoder_token_budget(device)  # what eval-lm and train-vae use
    started = time.perf_counter()
    for ids in test_ids:
        yardstick.iw_nll(torch.tensor([ids]), args.iw_samples, 100)
    iw["yardstick_fp32"] = len(test_ids) / (time.perf_counter() - started)
    evaluated = {precision: evaluate_lm(model, test_batcher, device, args.iw_samples, max_decoder_tokens=budget,
                                        seed=0, precision=precision)
                 for precision in ("fp32", "bf16")}
    for precision, metrics in evaluated.items():
        iw[f"probe_{precision}"] = metrics.sentences_per_s
    product_rows = modeling.SCORING_CHUNK_ROWS
    for rows in args.scoring_chunk_rows or [product_rows]:
        modeling.SCORING_CHUNK_ROWS = rows
        for tokens in args.iw_decoder_tokens or []:
            swept = evaluate_lm(model, test_batcher, device, args.iw_samples, max_decoder_tokens=tokens, seed=0,
                                precision="bf16")
            iw[f"probe_bf16_decoder_tokens_{tokens}_chunk_rows_{rows}"] = swept.sentences_per_s
    modeling.SCORING_CHUNK_ROWS = product_rows
    started = time.perf_counter()  # the yardstick again: the machine's speed may have drifted meanwhile
    for ids in test_ids:
        yardstick.iw_nll(torch.tensor([ids]), args.iw_samples, 100)
    iw["yardstick_fp32"] = statistics.mean([iw["yardstick_fp32"], len(test_ids) / (time.perf_counter() - started)])
    nll_diff = abs(evaluated["bf16"].nll - evaluated["fp32"].nll)
    ppl_rel_diff = abs(evaluated["bf16"].ppl / evaluated["fp32"].ppl - 1)

    peaks = {"fp32": matmul_peak_gflops(device, torch.float32), "bf16": matmul_peak_gflops(device, torch.bfloat16)}
    achieved = {name: training_flops_per_token(config) * tokens_per_sentence * rate / 1e9
                for name, rate in training.items()}
    result = {
        "device": "cpu", "torch_threads": torch.get_num_threads(), "auto_precision": resolve_precision("auto", device),
        "train_sentences": args.train_sentences, "vocab": len(tokenizer), "blocks": args.blocks,
        "block_steps": args.block_steps,
        "train_sentences_per_s": training,
        "compile_warmup_seconds": compile_seconds,
        "train_speedup_vs_yardstick": {name: rate / training["yardstick_fp32"] for name, rate in training.items()}
        if training else {},
        "iw_samples": args.iw_samples, "iw_sentences": len(test_ids), "iw_decoder_tokens": budget,
        "iw_sentences_per_s": iw,
        "iw_speedup_vs_yardstick": {name: rate / iw["yardstick_fp32"] for name, rate in iw.items()},
        "iw_bf16_vs_fp32": {"nll_fp32": evaluated["fp32"].nll, "nll_bf16": evaluated["bf16"].nll,
                            "nll_abs_diff_nats": nll_diff, "ppl_fp32": evaluated["fp32"].ppl,
                            "ppl_bf16": evaluated["bf16"].ppl, "ppl_rel_diff": ppl_rel_diff},
        "matmul_peak_gflops": peaks,
        "train_achieved_gflops": achieved,
        "train_fraction_of_peak": {name: {p: value / peak for p, peak in peaks.items()} for name, value in achieved.items()},
        **peak_memory_mb(device),
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
