"""Text reconstruction (Table 4, Section 3.2): greedy decoding from z ~ q(z|x), corpus BLEU against the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sacrebleu.metrics import BLEU

from probe_common.errors import ProbeError
from tasks.base import DecodingTask, Encoder, TaskData, TaskInfo, TaskOutput, example_ids_hash

# The corpora are already tokenised: no retokenisation and no smoothing, as multi-bleu.perl. Only the n-gram
# counts of this object are read; effective_order just silences sacrebleu's sentence-level warning.
_SENTENCE_STATISTICS = BLEU(tokenize="none", smooth_method="none", effective_order=True, force=True)


def bleu_statistics(hypotheses: list[str], references: list[str]) -> np.ndarray:
    """BLEU's sufficient statistics per sentence: [N, 10] = 4 n-gram matches, 4 n-gram totals, hyp len, ref len.

    Corpus BLEU is a function of their sums, so a bootstrap over sentences only re-sums rows.
    """
    rows = []
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        score = _SENTENCE_STATISTICS.sentence_score(hypothesis, [reference])
        rows.append([*score.counts, *score.totals, score.sys_len, score.ref_len])
    return np.asarray(rows, dtype=np.int64).reshape(-1, 10)


def corpus_bleu_from_statistics(statistics: np.ndarray) -> float:
    """Corpus BLEU (0-100) of the summed statistics: equals sacrebleu.corpus_bleu(tokenize="none", smooth_method="none")."""
    total = statistics.sum(axis=0).tolist()
    return float(BLEU.compute_bleu(total[0:4], total[4:8], total[8], total[9], smooth_method="none").score)


def bootstrap_bleu_ci(statistics: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float]:
    """Percentile 95% interval of corpus BLEU over sentences resampled with replacement (seeded)."""
    rng = np.random.default_rng(seed)
    n = len(statistics)
    scores = [corpus_bleu_from_statistics(statistics[rng.integers(0, n, n)]) for _ in range(n_resamples)]
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


@dataclass
class ReconstructionBLEU(DecodingTask):
    """BLEU (0-100) of greedy reconstructions from one seeded z ~ q(z|x) per test sentence.

    References are the inputs as the model's vocabulary sees them, words outside it as <unk>, as the authors'
    script does (utils.py:28,35: the reference is the id sequence of the input mapped back to words), so a
    correctly reconstructed <unk> is a hit. The paper's text says "the original one as the reference";
    references="as-written" scores against the sentences as written instead (every unknown word a miss).
    BLEU is not a mean over sentences, so there is no per_example list; ci95 comes from a bootstrap over sentences.
    """

    info: ClassVar[TaskInfo] = TaskInfo(
        name="recon-bleu", paper_ref="Table 4, Section 3.2", default_dataset="snli", split="test",
        main_score="bleu", higher_is_better=True, main_score_label="corpus BLEU of greedy reconstructions (0-100)",
        needs_decoder=True,
    )
    max_sentences: int | None = None  # the paper uses the whole test set
    max_length: int = 100  # decoding stops here when </s> never comes
    n_bootstrap: int = 200
    n_kept_examples: int = 10  # reconstructions shown in extra
    references: str = "model-vocabulary"  # or "as-written" (see the class docstring)

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        decoder = self.decoder_of(encoder, data)
        sentences = self.sentences(data, self.max_sentences)
        z = decoder.sample_posterior(sentences, np.random.default_rng(seed))
        reconstructions = decoder.greedy_decode(z, max_length=self.max_length)
        references = self.references_of(decoder, sentences)
        statistics = bleu_statistics(reconstructions, references)
        bleu = corpus_bleu_from_statistics(statistics)
        kept = [{"input": x, "reference": r, "reconstruction": y}
                for x, r, y in zip(sentences, references, reconstructions)][: self.n_kept_examples]
        return TaskOutput(
            scores={self.info.main_score: bleu}, ci95=bootstrap_bleu_ci(statistics, self.n_bootstrap, seed),
            n_examples=len(sentences), examples_hash=example_ids_hash(sentences),
            extra={"examples": kept, "n_bootstrap": self.n_bootstrap, "max_length": self.max_length,
                   "references": self.references},
        )

    def references_of(self, decoder, sentences: list[str]) -> list[str]:
        if self.references == "model-vocabulary":
            return decoder.as_model_sees(sentences)
        if self.references == "as-written":
            return list(sentences)
        raise ProbeError(f"recon-bleu: references must be 'model-vocabulary' or 'as-written', got {self.references!r}")
