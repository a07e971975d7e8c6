"""Language modelling (Section 2.1; Tables 1-3, 10-11): the metrics of `probe eval-lm` on the test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from probe_common.errors import ProbeError
from tasks.base import Encoder, ScoringTask, TaskData, TaskInfo, TaskOutput, example_ids_hash
from tasks.dataset_choice import training_corpus
from vae.metrics import LMMetrics
from vae.presets import DEFAULT_IW_SAMPLES


@dataclass
class LanguageModelling(ScoringTask):
    """IW NLL and PPL (1000 importance samples, Section 2.1), Recon, KL, -ELBO, ELBO PPL, MI and AU; an LSTM-LM
    (no latent variable) has the exact NLL and PPL only.

    Main score: PPL (lower is better). By default it runs on the dataset the VAE was trained on. PPL is a
    ratio over all tokens, not a mean over sentences, so there is no per_example list and no ci95.
    """

    info: ClassVar[TaskInfo] = TaskInfo(
        # default_dataset: the paper's main language-modelling corpus (Table 1); VAE runs use their own (dataset_for).
        name="lm", paper_ref="Section 2.1; Tables 1-3, 10-11", default_dataset="ptb", split="test",
        main_score="ppl", higher_is_better=False,
        main_score_label="perplexity per token, importance-weighted NLL", needs_lm_scorer=True,
    )
    iw_samples: int = DEFAULT_IW_SAMPLES  # Section 2.1
    max_sentences: int | None = None  # the paper uses the whole test set

    def dataset_for(self, encoder: Encoder) -> str:
        """The run's training dataset: a language model is measured on its own corpus."""
        corpus = training_corpus(encoder)
        if corpus is not None:
            return corpus.dataset
        if encoder.lm_scorer is None:  # not applicable anyway: the result is recorded under the default
            return self.info.default_dataset
        raise ProbeError(f"{encoder.encoder_id} does not record its training dataset; name a dataset for lm")

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        scorer = self.scorer_of(encoder, data)
        sentences = self.sentences(data, self.max_sentences)
        return self.output_of(scorer.lm_metrics(sentences, iw_samples=self.iw_samples, seed=seed), sentences)

    @staticmethod
    def output_of(metrics: LMMetrics, sentences: list[str]) -> TaskOutput:
        """The task's output for `metrics` measured on `sentences` (also a trained run's recorded metrics)."""
        scores = metrics.scores() | {"iw_samples": float(metrics.iw_samples)}
        return TaskOutput(scores=scores, n_examples=metrics.n_sentences, examples_hash=example_ids_hash(sentences),
                          extra={"n_tokens": metrics.n_tokens, "precision": metrics.precision})
