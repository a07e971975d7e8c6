"""Interpolation (Table 7, Appendix D Tables 12-13): greedy decodings along straight lines between latent codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from probe_common.errors import ProbeError
from tasks.base import DecodingTask, Encoder, TaskData, TaskInfo, TaskOutput, example_ids_hash

# Independent random streams: prior draws do not shift when the test set or its sampling changes.
_PRIOR_STREAM, _PAIR_STREAM, _POSTERIOR_STREAM = 0, 1, 2


def interpolation_path(z0: np.ndarray, z1: np.ndarray, n_points: int) -> np.ndarray:
    """n_points evenly spaced codes from z0 to z1, both ends included (exactly z0 and z1): [n_points, nz]."""
    t = np.linspace(0.0, 1.0, n_points)[:, None]
    return ((1.0 - t) * z0[None, :] + t * z1[None, :]).astype(np.float32)


@dataclass
class Interpolation(DecodingTask):
    """Decoded interpolations between 10 pairs of prior samples z ~ N(0, I) (Appendix D.1) and 10 pairs of
    posterior samples z ~ q(z|x) of random test sentences (Appendix D.2), 11 points per path (t = 0, 0.1, ..., 1:
    each example of Tables 12 and 13 has 11 sentences, and Table 7 shows every second one; the authors' repository
    has no interpolation code).

    The output is mainly text for the report (extra["interpolations"]). The main score is only a descriptive
    statistic: the mean number of distinct sentences along a path (1 = the path never leaves one sentence,
    n_points = every point decodes differently); it is neither better nor worse in itself.
    """

    info: ClassVar[TaskInfo] = TaskInfo(
        name="interpolation", paper_ref="Table 7, Appendix D (Tables 12, 13)", default_dataset="snli",
        split="test", main_score="distinct_per_path", higher_is_better=None,  # descriptive (see above)
        main_score_label="distinct sentences per interpolation path (descriptive)", needs_decoder=True,
        plot="interpolations",
    )
    n_pairs: int = 10  # per kind, as Appendix D
    n_points: int = 11  # t = 0, 0.1, ..., 1, as the 11 rows per example of Tables 7, 12, 13
    max_length: int = 100

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        decoder = self.decoder_of(encoder, data)
        test = self.sentences(data)
        if len(test) < 2 * self.n_pairs:
            raise ProbeError(f"interpolation needs {2 * self.n_pairs} test sentences, {data.dataset} has {len(test)}")
        prior = np.random.default_rng([seed, _PRIOR_STREAM]).standard_normal(
            (2 * self.n_pairs, decoder.latent_dim), dtype=np.float32)
        chosen = np.random.default_rng([seed, _PAIR_STREAM]).choice(len(test), size=2 * self.n_pairs, replace=False)
        ends = [test[i] for i in chosen]
        posterior = decoder.sample_posterior(ends, np.random.default_rng([seed, _POSTERIOR_STREAM]))
        # Rows 2i and 2i+1 of each block are the two ends of path i.
        paths = [("prior", None, None, prior[2 * i], prior[2 * i + 1]) for i in range(self.n_pairs)]
        paths += [("posterior", ends[2 * i], ends[2 * i + 1], posterior[2 * i], posterior[2 * i + 1])
                  for i in range(self.n_pairs)]
        codes = np.concatenate([interpolation_path(z0, z1, self.n_points) for *_, z0, z1 in paths])
        decoded = decoder.greedy_decode(codes, max_length=self.max_length)
        interpolations = [
            {"kind": kind, "source": source, "target": target,
             "sentences": decoded[i * self.n_points : (i + 1) * self.n_points]}
            for i, (kind, source, target, _, _) in enumerate(paths)
        ]
        distinct = np.array([len(set(path["sentences"])) for path in interpolations], dtype=np.float64)
        scores = {
            self.info.main_score: float(distinct.mean()),
            "distinct_per_path_prior": float(distinct[: self.n_pairs].mean()),
            "distinct_per_path_posterior": float(distinct[self.n_pairs :].mean()),
        }
        return TaskOutput(
            scores=scores, n_examples=len(paths), per_example={self.info.main_score: distinct.tolist()},
            # Prior paths are fixed by the seed and latent size, posterior paths by their sentence pairs.
            examples_hash=example_ids_hash(
                [f"prior seed={seed} nz={decoder.latent_dim} pairs={self.n_pairs}"] + ends),
            extra={"interpolations": interpolations, "t": np.linspace(0.0, 1.0, self.n_points).tolist()},
        )
