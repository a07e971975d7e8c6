"""Training speed against the vocabulary's minimum word count, at the yelp paper sizes on the cpu preset's sentences.

The decoder's output layer costs time in proportion to the vocabulary, and it is the largest product of a training
step. For each `--min-counts` value the words seen fewer times in the training sentences read as <unk>
(vae.presets.Preset.min_word_count). Every vocabulary trains its own model on the same batches (a word that reads
as <unk> keeps its place, so batch i holds the same sentences under every vocabulary), timed in interleaved blocks
in one process. Prints and saves JSON: vocabulary size, <unk> share of the training tokens, sentences/s, its ratio to
min count 1, wall time and peak memory.

Usage: python benchmarks/vocabulary_speed.py [--min-counts 1,2,3,4,5] [--sentences 32000] [--blocks 4]
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
from vae.data.tokenizer import UNK, encode
from vae.device import configure_backends
from vae.modeling_textvae import TextVAEModel
from vae.objectives import FreeBits
from vae.presets import PAPER_MODEL_SIZES, get_preset

RESULTS = Path(__file__).parent / "results"


class VocabularyRun:
    """One vocabulary's tokenised batches, model and SGD optimiser (the cpu preset's settings)."""

    def __init__(self, sentences: list[str], min_count: int, clip: float, lr: float):
        torch.manual_seed(0)
        self.tokenizer = build_tokenizer(sentences, min_count)
        ids = encode(self.tokenizer, sentences)
        unk = self.tokenizer.convert_tokens_to_ids(UNK)
        words = sum(len(sentence) - 2 for sentence in ids)  # without <s> and </s>
        self.unk_share = sum(token == unk for sentence in ids for token in sentence) / words
        self.batcher = EqualLengthBatcher(ids, batch_size=32)
        self.batches: list = []
        size = PAPER_MODEL_SIZES["yelp"]
        config = TextVAEConfig(vocab_size=len(self.tokenizer), embed_dim=size.embed_dim,
                               encoder_hidden_size=size.encoder_hidden_size,
                               decoder_hidden_size=size.decoder_hidden_size, latent_dim=size.latent_dim)
        self.model = TextVAEModel(config).train()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.objective = FreeBits(lam=6.0)
        self.clip = clip
        self.seconds: list[float] = []

    def time_block(self) -> None:
        started = time.perf_counter()
        for batch in self.batches:
            loss = self.objective.loss(self.model, batch, kl_weight=1.0).loss
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip, foreach=True)
            self.optimizer.step()
        self.seconds.append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--min-counts", default="1,2,3,4,5", help="comma-separated minimum word counts")
    parser.add_argument("--sentences", type=int, default=get_preset("cpu").max_train_sentences)
    parser.add_argument("--steps", type=int, default=60, help="training steps per block")
    parser.add_argument("--blocks", type=int, default=4, help="interleaved blocks per vocabulary (the first warms up)")
    parser.add_argument("--out", default=str(RESULTS / "vocabulary_speed.json"))
    args = parser.parse_args()
    min_counts = [int(n) for n in args.min_counts.split(",")]
    if 1 not in min_counts:
        min_counts.insert(0, 1)  # the reference of every ratio

    configure_backends(torch.device("cpu"))
    preset = get_preset("cpu")
    sentences = load_corpus("yelp", "train", args.data_dir).head(args.sentences).sentences
    runs = {n: VocabularyRun(sentences, n, preset.clip_grad_norm, preset.lr) for n in min_counts}
    batch_indices = np.random.default_rng(0).integers(len(runs[1].batcher), size=args.steps)
    for run in runs.values():
        run.batches = [run.batcher.batch(int(i)) for i in batch_indices]
    started = time.perf_counter()
    for _ in range(args.blocks):
        for run in runs.values():
            run.time_block()
    wall = time.perf_counter() - started

    sentences_per_block = sum(batch.input_ids.size(0) for batch in runs[1].batches)

    def speed(run: VocabularyRun) -> float:
        return sentences_per_block / float(np.median(run.seconds[1:]))

    result = {
        "device": platform.processor() or "cpu",
        "torch_threads": torch.get_num_threads(),
        "precision": "fp32",
        "train_sentences": len(sentences),
        "steps_per_block": args.steps,
        "timed_blocks": args.blocks - 1,
        "vocabularies": [{
            "min_word_count": n, "vocabulary": len(run.tokenizer), "unk_share_of_train_tokens": run.unk_share,
            "train_sentences_per_s": speed(run), "speed_vs_min_count_1": speed(run) / speed(runs[1]),
            "step_time_vs_min_count_1": speed(runs[1]) / speed(run),
        } for n, run in runs.items()],
        "wall_seconds": wall,
        "cpu_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
