"""Noisy reconstruction (Table 6, Section 3.2, after Zhao et al. 2018): swap words k times, encode the noisy
sentence, and score the clean one: -log p(x | z) with z ~ q(z | noisy x)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tasks.base import DecodingTask, Encoder, TaskData, TaskInfo, TaskOutput, example_ids_hash

# Separate random streams per k, so the swaps are the same for every encoder evaluated with one seed.
_SWAP_STREAM, _LATENT_STREAM = 0, 1


def swap_words(sentence: str, k: int, rng: np.random.Generator) -> str:
    """Swap the words at two distinct random positions, k times. A one-word sentence has nothing to swap
    and is returned unchanged."""
    words = sentence.split()
    if len(words) < 2:
        return sentence
    for _ in range(k):
        i = int(rng.integers(len(words)))
        j = int(rng.integers(len(words) - 1))
        if j >= i:  # uniform over the positions other than i
            j += 1
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


@dataclass
class NoisyReconstruction(DecodingTask):
    """Per-sentence reconstruction loss -log p(x | z), z ~ q(z | x with k word swaps) (one sample), k = 1..4.

    The main score is the mean over k of the k-wise averages (lower is better); per_example holds each
    sentence's loss averaged over k, so its mean is the main score, and each k's losses (their intervals).
    One-word sentences have nothing to swap and enter every k unchanged.
    """

    info: ClassVar[TaskInfo] = TaskInfo(
        name="noisy-recon", paper_ref="Table 6, Section 3.2", default_dataset="snli", split="test",
        main_score="mean_over_k", higher_is_better=False,
        main_score_label="-log p(x|z) of the clean sentence, z ~ q(z|noisy x), in nats", needs_decoder=True,
        plot="k-curve",
    )
    swap_counts: tuple[int, ...] = (1, 2, 3, 4)  # the columns of Table 6
    max_sentences: int | None = None  # the paper uses the whole test set
    n_kept_examples: int = 3  # noisy inputs shown in extra

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        decoder = self.decoder_of(encoder, data)
        sentences = self.sentences(data, self.max_sentences)
        losses, noisy = {}, {}
        for k in self.swap_counts:
            swap_rng = np.random.default_rng([seed, k, _SWAP_STREAM])
            noisy[k] = [swap_words(sentence, k, swap_rng) for sentence in sentences]
            z = decoder.sample_posterior(noisy[k], np.random.default_rng([seed, k, _LATENT_STREAM]))
            losses[k] = np.asarray(decoder.reconstruction_nll(sentences, z), dtype=np.float64)
        per_sentence = np.mean([losses[k] for k in self.swap_counts], axis=0)
        scores = {f"k{k}": float(losses[k].mean()) for k in self.swap_counts}
        scores[self.info.main_score] = float(per_sentence.mean())
        return TaskOutput(
            scores=scores, n_examples=len(sentences),
            per_example={self.info.main_score: per_sentence.tolist(),
                         **{f"k{k}": losses[k].tolist() for k in self.swap_counts}},  # each k column's interval
            # Clean and noisy inputs both: paired comparisons need the same swaps as well as the same sentences.
            examples_hash=example_ids_hash(sentences + [x for k in self.swap_counts for x in noisy[k]]),
            extra={"curve": {k: scores[f"k{k}"] for k in self.swap_counts},
                   "examples": [{"clean": sentence, **{f"k{k}": noisy[k][i] for k in self.swap_counts}}
                                for i, sentence in enumerate(sentences[: self.n_kept_examples])]},
        )
