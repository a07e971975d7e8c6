"""Language modelling (Section 2.1; Tables 1-3, 10-11): the metrics of `probe eval-lm` on the test split."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from leaderboard.schema import TaskResult
from tasks.base import Encoder, Task, TaskData, TaskInfo, example_ids_hash
from tasks.dataset_choice import training_corpus
from vae.errors import ProbeError

_SCORES = ("nll", "ppl", "recon", "kl", "neg_elbo", "elbo_ppl", "mi", "au")


@dataclass
class LanguageModelling(Task):
    """IW NLL and PPL (1000 importance samples, Section 2.1), Recon, KL, -ELBO, ELBO PPL, MI and AU.

    Main score: PPL (lower is better). By default it runs on the dataset the VAE was trained on. PPL is a
    ratio over all tokens, not a mean over sentences, so there is no per_example list and no ci95.
    """

    info: ClassVar[TaskInfo] = TaskInfo(
        # default_dataset: the paper's main language-modelling corpus (Table 1); VAE runs use their own (dataset_for).
        name="lm", paper_ref="Section 2.1; Tables 1-3, 10-11", default_dataset="ptb", split="test",
        main_score="ppl", needs_decoder=True,
    )
    iw_samples: int = 1000  # Section 2.1
    max_sentences: int | None = None  # the paper uses the whole test set

    def dataset_for(self, encoder: Encoder) -> str:
        """The run's training dataset: a language model is measured on its own corpus."""
        corpus = training_corpus(encoder)
        if corpus is not None:
            return corpus.dataset
        if encoder.decoder is None:  # not applicable anyway: the result is recorded under the default
            return self.info.default_dataset
        raise ProbeError(f"{encoder.encoder_id} does not record its training dataset; name a dataset for lm")

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskResult:
        started = time.perf_counter()
        decoder = self.decoder_of(encoder, data)
        sentences = data.corpus(self.info.split).head(self.max_sentences).sentences
        metrics = decoder.lm_metrics(sentences, iw_samples=self.iw_samples, seed=seed).to_dict()
        scores = {name: float(metrics[name]) for name in _SCORES}
        scores["iw_samples"] = float(metrics["iw_samples"])
        return TaskResult(
            task=self.info.name, dataset=data.dataset, split=self.info.split,
            main_score_name=self.info.main_score, main_score=scores[self.info.main_score], scores=scores,
            n_examples=metrics["n_sentences"], seconds=time.perf_counter() - started,
            example_ids_hash=example_ids_hash(sentences), extra={"n_tokens": metrics["n_tokens"]},
        )
