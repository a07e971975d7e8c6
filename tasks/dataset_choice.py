"""Which corpus a task runs on: the encoder's own training corpus when it has one, the paper's otherwise.

The paper probes each VAE on the corpus it was trained on (Yelp models on Yelp, Table 8; SNLI models on SNLI,
Tables 4-7). Encoders without a training corpus of ours (Hugging Face folders, built-ins fitted on the task
data) get the paper's dataset of each task. A run evaluated on another corpus because `--dataset` asked is
"cross-corpus": its results say so and record how many evaluated words the encoder has never seen. A run trained
on a file with --valid/--test files is probed with those files as its valid and test splits.
"""

from __future__ import annotations

from vae.data.corpus import SplitFiles
from vae.data.recorded import TrainingCorpus


def training_corpus(encoder) -> TrainingCorpus | None:
    """The encoder's training corpus from its training record; None for encoders without one (HF, built-ins)."""
    return TrainingCorpus.of(encoder.training_config)


def split_files_for(encoder, dataset: str, given: SplitFiles | None = None) -> SplitFiles | None:
    """The valid/test files to load `dataset` with: those given (--valid/--test), plus, when `dataset` is the
    encoder's own corpus read from a path, the ones its run read (a run trained on one file has no others)."""
    corpus = training_corpus(encoder)
    if corpus is None or not corpus.loads_as(dataset):
        return given
    return corpus.split_files(given)
