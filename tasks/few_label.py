"""Few-label classification (Table 8, Section 3.3): a linear classifier on the frozen codes (for a VAE the raw
posterior means) trained with 100 to 10k labelled train examples; test accuracy, mean and spread over 5 seeds.

The protocol of the authors' code:
- labelled subsets nested (100 in 500 in 1k in 2k in 10k) and drawn per seed (tasks.label_subsets); when the
  dataset's folder holds the released subsets as train.100.tsv ... train.10000.tsv, those are used instead;
- a linear classifier on the codes as they are, never standardised (tasks.linear_probe says why);
- batches of sentences of one length, 10 outputs, early stopping on the validation loss (text_ss_ft.py,
  tasks.linear_probe); the classifier's initialisation and batch order follow the seed.
  classifier="logistic-regression" instead chooses the L2 regularisation C on validation accuracy.
The authors' default fine-tunes the encoder itself (text_ss_ft.py without --freeze_enc); the paper's text trains
the classifier "on the pretrained latent codes" (Section 3.3), which is what a probe of fixed codes does and what
few-label does. classifier="finetune-encoder" (the task few-label-finetune) is the code's default instead, for the
text VAEs of this project (tasks.finetune_probe).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from probe_common.errors import ProbeError
from probe_common.hashing import file_sha256
from tasks.base import Encoder, RepresentationTask, TaskData, TaskInfo, TaskOutput, example_ids_hash
from tasks.blas import single_threaded_blas
from tasks.finetune_probe import finetune_linear_sgd
from tasks.label_subsets import nested_draw, subset_files
from tasks.linear_probe import FittedClassifier, SGDSettings, train_linear_sgd, train_logistic_regression
from vae.data.corpus import load_corpus, word_counts

MAIN_SCORE = "accuracy"
FINETUNE = "finetune-encoder"
CLASSIFIERS = ("linear-sgd", "logistic-regression", FINETUNE)


@dataclass
class LabelledSubset:
    inputs: np.ndarray  # codes [N, d], or with FINETUNE the sentences (an object array)
    labels: np.ndarray
    lengths: np.ndarray  # words per sentence, by which the SGD probe batches (tasks.linear_probe)
    source: str  # "drawn" or the released file's name


@dataclass
class FewLabel(RepresentationTask):
    sizes: tuple[int, ...] = (100, 500, 1000, 2000, 10_000)  # Table 8's #labeled columns
    n_draws: int = 5  # seeds per size: label draws (or, with released subsets, classifier initialisations)
    classifier: str = "linear-sgd"  # the authors' SGD with early stopping, "logistic-regression" or FINETUNE
    sgd: SGDSettings = SGDSettings()
    c_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)  # logistic-regression only
    max_iter: int = 1000  # logistic-regression only
    use_subset_files: bool = True  # read train.N.tsv from the dataset's folder when it holds them
    n_resamples: int = 1000  # bootstrap resamples of the runner's ci95

    @property
    def info(self) -> TaskInfo:
        # Fine-tuning the encoder is another protocol, so another leaderboard column.
        return TaskInfo(
            # The train split is needed only for sizes without a released subset file (plan_sizes).
            name="few-label-finetune" if self.classifier == FINETUNE else "few-label",
            paper_ref="Table 8, Section 3.3", default_dataset="yelp", split="test",
            main_score=MAIN_SCORE, higher_is_better=True, main_score_label="test accuracy (mean over seeds)",
            needs_labels=True, needs_splits=("valid",), plot="label-curve", per_seed_unit="label draws",
        )

    def not_applicable_reason(self, encoder: Encoder, data: TaskData) -> str | None:
        reason = super().not_applicable_reason(encoder, data)
        if reason is None and self.classifier == FINETUNE and encoder.text_vae is None:
            reason = f"{self.info.name} trains the encoder: {encoder.encoder_id} is not a text VAE of this project"
        if reason is None and not self.plan_sizes(data):
            n_train = len(data.splits["train"]) if "train" in data.splits else 0
            reason = (f"few-label needs at least {min(self.sizes)} train examples or a train.{min(self.sizes)}.tsv "
                      f"file, {data.dataset} train has {n_train}")
        return reason

    def plan_sizes(self, data: TaskData) -> dict[int, Path | None]:
        """Each size that can run, in increasing order: its released subset file, or None to draw it from train."""
        folder = data.corpus(self.info.split).path.parent
        files = subset_files(folder, list(self.sizes)) if self.use_subset_files else {}
        n_train = len(data.splits["train"]) if "train" in data.splits else 0
        return {size: files.get(size) for size in sorted(self.sizes) if size in files or size <= n_train}

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        if self.classifier not in CLASSIFIERS:
            raise ProbeError(f"few-label: classifier must be one of {', '.join(CLASSIFIERS)}, got {self.classifier!r}")
        plan = self.plan_sizes(data)
        sizes = list(plan)
        released = {size: self.read_subset(path, encoder, data) for size, path in plan.items() if path is not None}
        valid = (self.inputs(data, "valid"), np.asarray(data.corpus("valid").labels))
        test = (self.inputs(data, "test"), np.asarray(data.corpus("test").labels))
        drawn_sizes = [size for size in sizes if size not in released]
        train = (self.inputs(data, "train"), np.asarray(data.corpus("train").labels),
                 np.asarray(word_counts(data.corpus("train").sentences))) if drawn_sizes else None
        classes = np.unique(np.concatenate([valid[1], test[1], *(s.labels for s in released.values()),
                                            *([train[1]] if train else [])]))
        accuracies: dict[int, list[float]] = {size: [] for size in sizes}
        chosen: dict[int, list[float]] = {size: [] for size in sizes}
        largest_size_correct = []
        with single_threaded_blas():
            for draw in range(self.n_draws):
                # One permutation per seed: its prefixes are the nested subsets (tasks.label_subsets).
                rows = nested_draw(len(train[1]), drawn_sizes, np.random.default_rng([seed, draw])) if train else {}
                for size in sizes:
                    subset = released[size] if size in released else \
                        LabelledSubset(*(column[rows[size]] for column in train), "drawn")
                    if len(np.unique(subset.labels)) < 2:
                        raise ProbeError(f"few-label: seed {draw} of {size} train examples ({subset.source}) holds "
                                         f"a single class")
                    fitted = self.fit(subset, valid, classes, np.random.default_rng([seed, draw, size]), encoder)
                    correct = fitted.classifier.predict(test[0]) == test[1]  # Table 8: test accuracy
                    accuracies[size].append(float(correct.mean()))
                    chosen[size].append(fitted.chosen)
                    if size == sizes[-1]:
                        largest_size_correct.append(correct)
        # Per test example: the fraction of seeds at the largest size that got it right; its mean is the main score.
        per_example = np.mean(largest_size_correct, axis=0)
        main = float(np.mean(accuracies[sizes[-1]]))
        scores = {MAIN_SCORE: main}
        for size, values in accuracies.items():
            scores[str(size)] = float(np.mean(values))
            scores[f"std_{size}"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        sources = {str(size): released[size].source if size in released else "drawn" for size in sizes}
        return TaskOutput(
            scores=scores, per_seed={MAIN_SCORE: accuracies[sizes[-1]], **{str(s): v for s, v in accuracies.items()}},
            n_examples=len(per_example), per_example={MAIN_SCORE: per_example.tolist()},
            examples_hash=example_ids_hash(data.corpus("test").sentences),
            extra={"curve": {str(s): scores[str(s)] for s in sizes}, "main_size": sizes[-1],
                   "classifier": self.classifier,
                   "features": ("the encoder fine-tuned" if self.classifier == FINETUNE
                                else "raw codes, not standardised"),
                   # What validation chose per size and seed: epochs trained (SGD) or C (logistic regression).
                   "chosen_C" if self.classifier == "logistic-regression" else "chosen_epochs":
                       {str(s): c for s, c in chosen.items()},
                   "label_subsets": sources,
                   "label_subset_sha256": {str(s): file_sha256(plan[s]) for s in released}},
        )

    def inputs(self, data: TaskData, split: str) -> np.ndarray:
        """What the classifier reads: the split's codes, or its sentences when the encoder is fine-tuned."""
        if self.classifier == FINETUNE:
            return np.asarray(data.corpus(split).sentences, dtype=object)
        return self.codes(data, split)

    def fit(self, subset: LabelledSubset, valid: tuple[np.ndarray, np.ndarray], classes: np.ndarray,
            rng: np.random.Generator, encoder: Encoder) -> FittedClassifier:
        if self.classifier == "linear-sgd":
            return train_linear_sgd(subset.inputs, subset.labels, subset.lengths, *valid, classes, rng, self.sgd)
        if self.classifier == FINETUNE:
            model, tokenizer = encoder.text_vae
            return finetune_linear_sgd(model, tokenizer, list(subset.inputs), subset.labels, list(valid[0]), valid[1],
                                       classes, int(rng.integers(2**31)), self.sgd)
        return train_logistic_regression(subset.inputs, subset.labels, *valid, self.c_grid, self.max_iter)

    def read_subset(self, path: Path, encoder: Encoder, data: TaskData) -> LabelledSubset:
        """A released subset file: its labels and its sentences' codes (cached by the runner when it can), or its
        sentences when the encoder is fine-tuned."""
        corpus = load_corpus(str(path), "train")
        if corpus.labels is None:
            raise ProbeError(f"{path}: a labelled subset must be a .tsv file of label<TAB>sentence lines")
        if self.classifier == FINETUNE:
            inputs = np.asarray(corpus.sentences, dtype=object)
        else:
            inputs = np.asarray(data.embed_file(corpus) if data.embed_file is not None else
                                encoder.encode(corpus.sentences))
        return LabelledSubset(inputs, np.asarray(corpus.labels), np.asarray(word_counts(corpus.sentences)), path.name)
