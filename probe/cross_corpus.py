"""Results of an encoder on another corpus than its training corpus ("cross-corpus", e.g. a Yelp VAE probed on
SNLI because --dataset asked): they say so and record the share of evaluated words the encoder never saw."""

from __future__ import annotations

import dataclasses

from tasks.base import Encoder, Task, TaskData
from tasks.dataset_choice import training_corpus
from vae.data.corpus import Corpus


@dataclasses.dataclass
class CorpusCheck:
    """Whether the encoder was trained on the corpus its tasks run on; results on another one are marked."""

    trained_on: str | None  # the encoder's training corpus; None when it has none (HF folders, built-ins)
    cross_corpus: bool
    vocabulary: frozenset[str] | None  # the encoder's words, for the out-of-vocabulary rate

    @classmethod
    def of(cls, encoder: Encoder, dataset_name: str, splits: dict[str, Corpus]) -> "CorpusCheck":
        corpus = training_corpus(encoder)
        if corpus is None:
            return cls(None, False, None)
        if corpus.matches(dataset_name, [c.path for c in splits.values()]):
            return cls(corpus.name, False, None)
        vocabulary = getattr(encoder.decoder, "vocabulary", None)  # a VAE run's words (probe.decoder.VAEDecoder)
        return cls(corpus.name, True, vocabulary() if vocabulary is not None else None)

    def marks(self, task: Task, data: TaskData) -> dict:
        """What a cross-corpus result adds to its extra: that it is, the encoder's corpus and its
        out-of-vocabulary rate on the splits the task reads; nothing for a result on the encoder's own corpus."""
        if not self.cross_corpus:
            return {}
        read = dict.fromkeys((task.info.split, *task.info.needs_splits))  # the splits the task evaluates
        splits = [data.splits[name] for name in read if name in data.splits]
        oov = out_of_vocabulary_rate(self.vocabulary, splits) if self.vocabulary is not None else None
        return {"cross_corpus": True, "trained_on": self.trained_on, "oov_rate": oov}


def out_of_vocabulary_rate(vocabulary: frozenset[str], corpora: list[Corpus]) -> float:
    """Share of the evaluated words (whitespace tokens) that the vocabulary lacks."""
    words = [word for corpus in corpora for sentence in corpus.sentences for word in sentence.split()]
    return sum(word not in vocabulary for word in words) / max(1, len(words))
