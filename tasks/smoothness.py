"""Smoothness of the latent space (Table 5, Section 3.2): the Pearson correlation (PCC) between the L2 distance
of two sentences' codes and their word-level edit distance, over 100k random sentence pairs of the test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import Levenshtein
import numpy as np
from scipy.stats import pearsonr

from probe_common.errors import ProbeError
from tasks.base import Encoder, RepresentationTask, TaskData, TaskInfo, TaskOutput

MAIN_SCORE = "pcc"


@dataclass
class Smoothness(RepresentationTask):
    n_pairs: int = 100_000  # Section 3.2: "we randomly sample 100k sentence pairs"
    scatter_size: int = 500  # pairs kept in extra["scatter"] for the report's plot
    n_resamples: int = 1000  # bootstrap resamples of the test sentences (and of the pairs) for ci95

    info: ClassVar[TaskInfo] = TaskInfo(
        # Higher is smoother: code distances that follow the edit distance (Table 5).
        name="smoothness", paper_ref="Table 5, Section 3.2", default_dataset="snli", split="test",
        main_score=MAIN_SCORE, higher_is_better=True,
        main_score_label="Pearson r of code L2 distance and word edit distance", plot="smoothness-scatter",
        bootstrap_unit="pairs and their test sentences",
    )

    def not_applicable_reason(self, encoder: Encoder, data: TaskData) -> str | None:
        reason = super().not_applicable_reason(encoder, data)
        if reason is None and len(data.corpus("test")) < 2:
            reason = f"smoothness needs at least 2 test sentences, {data.dataset} test has {len(data.corpus('test'))}"
        return reason

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        sentences = data.corpus(self.info.split).sentences
        codes = self.codes(data, self.info.split).astype(np.float64)
        first, second = random_pairs(len(sentences), self.n_pairs, np.random.default_rng(seed))
        latent_distance = np.linalg.norm(codes[first] - codes[second], axis=1)
        edit_distance = word_edit_distances(sentences, first, second)
        if np.ptp(latent_distance) == 0 or np.ptp(edit_distance) == 0:
            raise ProbeError(f"smoothness: the {'codes' if np.ptp(latent_distance) == 0 else 'sentences'} of "
                             f"every pair are equally far apart, so the correlation is undefined")
        pcc = float(pearsonr(latent_distance, edit_distance).statistic)  # Table 5: PCC of L2 and edit distances
        scatter = np.stack([latent_distance, edit_distance], axis=1)[: self.scatter_size]
        # A correlation is no mean over pairs: no per_example list, the interval is a bootstrap of the PCC itself.
        return TaskOutput(
            scores={MAIN_SCORE: pcc, "mean_latent_distance": float(latent_distance.mean()),
                    "mean_edit_distance": float(edit_distance.mean())},
            ci95=sentence_bootstrap_pearson_ci(latent_distance, edit_distance, first, second, len(sentences),
                                               self.n_resamples, seed),
            n_examples=self.n_pairs,
            extra={"scatter": np.round(scatter, 4).tolist()},
        )


def random_pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n_pairs pairs (i, j) of distinct sentences drawn uniformly, with replacement across pairs."""
    first = rng.integers(n, size=n_pairs)
    second = rng.integers(n - 1, size=n_pairs)
    second += second >= first  # skip i itself: j is uniform over the other n - 1 sentences
    return first, second


def word_edit_distances(sentences: list[str], first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Levenshtein distance in words: each distinct word becomes one character, then a C edit distance."""
    vocabulary: dict[str, str] = {}
    as_text = ["".join(vocabulary.setdefault(word, word_character(len(vocabulary))) for word in sentence.split())
               for sentence in sentences]
    return np.array([Levenshtein.distance(as_text[i], as_text[j]) for i, j in zip(first, second)], dtype=np.float64)


def word_character(index: int) -> str:
    """A distinct character per word index, skipping the surrogate range that str cannot hold alone."""
    return chr(index + 0x800 if index >= 0xD800 else index)


def weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    """Pearson r of the pairs (x, y) each counted `weights` times (integer weights: the r of the repeated rows)."""
    total = weights.sum()
    if total == 0:
        return float("nan")
    dx, dy = x - (weights @ x) / total, y - (weights @ y) / total
    covariance, var_x, var_y = weights @ (dx * dy), weights @ (dx * dx), weights @ (dy * dy)
    return float(covariance / np.sqrt(var_x * var_y)) if var_x > 0 and var_y > 0 else float("nan")


def sentence_bootstrap_pearson_ci(x: np.ndarray, y: np.ndarray, first: np.ndarray, second: np.ndarray,
                                  n_sentences: int, n_resamples: int, seed: int) -> tuple[float, float]:
    """Percentile 95% interval of the PCC over test sets resampled sentence by sentence (seeded).

    Each sentence is in about 2 * n_pairs / n_sentences pairs, so the pairs are not independent and resampling
    them alone gives too narrow an interval. A resample draws the n sentences with replacement (counts c) and the
    pairs with replacement (counts m); pair (i, j) then weighs m * c_i * c_j, in proportion to how often it would be
    drawn from the resampled test set."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        sentence_counts = np.bincount(rng.integers(n_sentences, size=n_sentences), minlength=n_sentences)
        pair_counts = np.bincount(rng.integers(len(x), size=len(x)), minlength=len(x))
        values.append(weighted_pearson(x, y, pair_counts * sentence_counts[first] * sentence_counts[second]))
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return float(low), float(high)
