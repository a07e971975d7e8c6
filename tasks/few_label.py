"""Few-label classification (Table 8, Section 3.3): a linear classifier on frozen codes trained with 100 to
10k labelled train examples; test accuracy, mean and spread over seeded label draws.

As the authors' scripts/sampling_training_labels.py, the labelled examples are a uniform random sample of
the train split. The regularisation C is chosen per draw on the validation split; the features are
standardised so one grid of C suits every encoder's scale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from leaderboard.bootstrap import bootstrap_ci
from leaderboard.schema import TaskResult
from tasks.base import Encoder, Task, TaskData, TaskInfo, example_ids_hash
from tasks.blas import single_threaded_blas
from vae.errors import ProbeError

MAIN_SCORE = "accuracy"


@dataclass
class FewLabel(Task):
    sizes: tuple[int, ...] = (100, 500, 1000, 2000, 10_000)  # Table 8's #labeled columns
    n_draws: int = 5  # label draws (seeds) per size
    c_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
    max_iter: int = 1000
    n_resamples: int = 1000  # bootstrap resamples for ci95

    info: ClassVar[TaskInfo] = TaskInfo(
        name="few-label", paper_ref="Table 8, Section 3.3", default_dataset="yelp", split="test",
        main_score=MAIN_SCORE, needs_labels=True, needs_splits=("train", "valid"),
    )

    def not_applicable_reason(self, encoder: Encoder, data: TaskData) -> str | None:
        reason = super().not_applicable_reason(encoder, data)
        if reason is None and not self.sizes_that_fit(len(data.corpus("train"))):
            reason = f"few-label needs at least {min(self.sizes)} train examples, {data.dataset} train has " \
                     f"{len(data.corpus('train'))}"
        return reason

    def sizes_that_fit(self, n_train: int) -> list[int]:
        return sorted(size for size in self.sizes if size <= n_train)

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskResult:
        started = time.perf_counter()
        train_codes, train_labels = data.embed("train"), np.asarray(data.corpus("train").labels)
        valid = (data.embed("valid"), np.asarray(data.corpus("valid").labels))
        test = (data.embed("test"), np.asarray(data.corpus("test").labels))
        sizes = self.sizes_that_fit(len(train_labels))
        with single_threaded_blas():
            accuracies, chosen_c, largest_size_correct = self.evaluate_draws(
                sizes, train_codes, train_labels, valid, test, seed)
        # Per test example: the fraction of draws at the largest size that got it right; its mean is the main score.
        per_example = np.mean(largest_size_correct, axis=0)
        main = float(np.mean(accuracies[sizes[-1]]))
        scores = {MAIN_SCORE: main}
        for size, values in accuracies.items():
            scores[str(size)] = float(np.mean(values))
            scores[f"std_{size}"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        return TaskResult(
            task=self.info.name, dataset=data.dataset, split="test", main_score_name=MAIN_SCORE, main_score=main,
            scores=scores, per_seed={MAIN_SCORE: accuracies[sizes[-1]], **{str(s): v for s, v in accuracies.items()}},
            ci95=bootstrap_ci(per_example, n_resamples=self.n_resamples, seed=seed),
            n_examples=len(per_example), seconds=time.perf_counter() - started, per_example=per_example.tolist(),
            example_ids_hash=example_ids_hash(data.corpus("test").sentences),
            extra={"curve": {str(s): scores[str(s)] for s in sizes}, "main_size": sizes[-1],
                   "chosen_C": {str(s): c for s, c in chosen_c.items()}},
        )

    def evaluate_draws(self, sizes, train_codes, train_labels, valid, test, seed):
        """Test accuracy and chosen C per size and draw; 0/1 test correctness of each draw at the largest size."""
        accuracies: dict[int, list[float]] = {}
        chosen_c: dict[int, list[float]] = {}
        largest_size_correct = []
        for size in sizes:
            accuracies[size], chosen_c[size] = [], []
            for draw in range(self.n_draws):
                rows = np.random.default_rng([seed, size, draw]).choice(len(train_labels), size, replace=False)
                if len(np.unique(train_labels[rows])) < 2:
                    raise ProbeError(f"few-label: draw {draw} of {size} train examples holds a single class")
                classifier, c = self.fit_with_best_c(train_codes[rows], train_labels[rows], *valid)
                correct = classifier.predict(test[0]) == test[1]  # Table 8: test accuracy with `size` labels
                accuracies[size].append(float(correct.mean()))
                chosen_c[size].append(c)
                if size == sizes[-1]:
                    largest_size_correct.append(correct)
        return accuracies, chosen_c, largest_size_correct

    def fit_with_best_c(self, codes, labels, valid_codes, valid_labels):
        """The classifier whose C gives the best validation accuracy (the first C of the grid on ties)."""
        best = None
        for c in self.c_grid:
            classifier = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=self.max_iter))
            classifier.fit(codes, labels)
            accuracy = float(np.mean(classifier.predict(valid_codes) == valid_labels))
            if best is None or accuracy > best[0]:
                best = (accuracy, classifier, c)
        return best[1], best[2]
