"""Training and importance-weighted NLL throughput at the yelp paper sizes (128/512/512, nz 32).

Prints and saves JSON: sentences/s and tokens/s of training steps (pretrain-fb's free-bits stage),
achieved GFLOP/s against a matmul peak measured in the same process, IW-NLL sentences/s at 1,000
samples, and peak memory. Usage: python benchmarks/train_throughput.py [--device cuda] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from vae.configuration_textvae import TextVAEConfig
from vae.data import EqualLengthBatcher, build_tokenizer, load_corpus
from vae.data.tokenizer import encode
from vae.device import configure_backends, decoder_token_budget, resolve_device
from vae.precision import autocast, resolve_precision
from vae.objectives import FreeBits
from vae.metrics import evaluate_lm
from vae.modeling_textvae import TextVAEModel
from vae.presets import PAPER_MODEL_SIZES

RESULTS = Path(__file__).parent / "results"


def matmul_peak_gflops(device: torch.device, dtype: torch.dtype, size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a square matrix product (fp32 is IEEE fp32 on a GPU too: vae.device.use_ieee_fp32)."""
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def training_flops_per_token(config: TextVAEConfig) -> float:
    """Multiply-adds of one token's forward pass x2 (FLOPs) x3 (forward + backward)."""
    e, he, hd, nz, v = (config.embed_dim, config.encoder_hidden_size, config.decoder_hidden_size,
                        config.latent_dim, config.vocab_size)
    encoder = 4 * he * (e + he)
    decoder = 4 * hd * (e + nz + hd) + hd * v
    return 2 * 3 * (encoder + decoder)


def peak_memory_mb(device: torch.device) -> dict:
    memory = {"cpu_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        memory["gpu_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps (after 5 warm-up steps)")
    parser.add_argument("--iw-sentences", type=int, default=20)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--precision", default="auto", help="auto, bf16 or fp32")
    parser.add_argument("--out", default=str(RESULTS / "train_throughput.json"))
    args = parser.parse_args()

    device = resolve_device(args.device)
    configure_backends(device)
    # The product's defaults: `auto` trains in fp32 and scores in bf16 where the hardware has it.
    train_precision = resolve_precision(args.precision, device, training=True)
    score_precision = resolve_precision(args.precision, device)
    torch.manual_seed(0)
    train = load_corpus("yelp", "train", args.data_dir)
    tokenizer = build_tokenizer(train.sentences)
    batcher = EqualLengthBatcher(encode(tokenizer, train.sentences), batch_size=32)
    size = PAPER_MODEL_SIZES["yelp"]
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=size.embed_dim,
                           encoder_hidden_size=size.encoder_hidden_size,
                           decoder_hidden_size=size.decoder_hidden_size, latent_dim=size.latent_dim)
    model = TextVAEModel(config).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    rng = np.random.default_rng(0)
    batches = [batcher.batch(int(i)) for i in rng.integers(len(batcher), size=args.steps + 5)]

    sentences = tokens = 0
    for step, batch in enumerate(batches):
        if step == 5:
            synchronize(device)
            started = time.perf_counter()
        with autocast(device, train_precision):
            loss = FreeBits(lam=6.0).loss(model, batch.to(device), kl_weight=1.0).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step >= 5:
            sentences += batch.input_ids.size(0)
            tokens += int(batch.lengths.sum())
    synchronize(device)
    train_seconds = time.perf_counter() - started
    achieved = training_flops_per_token(config) * tokens / train_seconds / 1e9

    test = load_corpus("yelp", "test", args.data_dir).head(args.iw_sentences)
    test_batcher = EqualLengthBatcher(encode(tokenizer, test.sentences), batch_size=32)
    synchronize(device)
    started = time.perf_counter()
    evaluate_lm(model, test_batcher, device, iw_samples=args.iw_samples, max_decoder_tokens=decoder_token_budget(device),
                precision=score_precision)
    synchronize(device)
    iw_seconds = time.perf_counter() - started

    peaks = {name: matmul_peak_gflops(device, dtype) for name, dtype in (("fp32", torch.float32),
                                                                          ("bf16", torch.bfloat16))}
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch_threads": torch.get_num_threads(),
        "train_precision": train_precision,
        "score_precision": score_precision,
        "model": {"embed": size.embed_dim, "encoder_hidden": size.encoder_hidden_size,
                  "decoder_hidden": size.decoder_hidden_size, "latent": size.latent_dim, "vocab": len(tokenizer)},
        "train_steps": args.steps,
        "train_sentences_per_s": sentences / train_seconds,
        "train_tokens_per_s": tokens / train_seconds,
        "train_achieved_gflops": achieved,
        "matmul_peak_gflops": peaks,
        "fraction_of_peak": {name: achieved / peak for name, peak in peaks.items()},
        "iw_samples": args.iw_samples,
        "iw_nll_sentences": len(test),
        "iw_nll_sentences_per_s": len(test) / iw_seconds,
        **peak_memory_mb(device),
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
