"""Unsupervised classification (Table 8, "0 labels", Section 3.3): a Gaussian mixture fitted on the train
codes; each component is named after a validation label; test accuracy of the components' labels.

Follows the authors' scripts/unsupervised_cluster.py (bohanli/vae-pretraining-encoder): GaussianMixture with
tol 1e-3, max_iter 200, one initialisation, fitted on the raw codes; by default 10 components, each labelled
with the label of the validation example it gives the highest probability; with `one2one`, as many
components as classes and the component -> class assignment that maximises validation agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.mixture import GaussianMixture

from probe_common.errors import ProbeError
from tasks.base import Encoder, RepresentationTask, TaskData, TaskInfo, TaskOutput, example_ids_hash
from tasks.blas import single_threaded_blas


@dataclass
class GMMCluster(RepresentationTask):
    n_components: int = 10  # the authors' default (--num 10); ignored with one2one
    one2one: bool = False
    tol: float = 1e-3
    max_iter: int = 200
    n_resamples: int = 1000  # bootstrap resamples of the runner's ci95

    @property
    def info(self) -> TaskInfo:
        # one2one is another protocol, so another leaderboard column.
        return TaskInfo(
            name="gmm-cluster-one2one" if self.one2one else "gmm-cluster", paper_ref="Table 8 (0 labels), Section 3.3",
            default_dataset="yelp", split="test", main_score="accuracy", higher_is_better=True,
            main_score_label="test accuracy of the components' labels", needs_labels=True,
            needs_splits=("train", "valid"),
        )

    def run(self, encoder: Encoder, data: TaskData, seed: int = 0) -> TaskOutput:
        valid_labels = np.asarray(data.corpus("valid").labels)
        test_labels = np.asarray(data.corpus("test").labels)
        classes = np.unique(valid_labels)
        n_components = len(classes) if self.one2one else self.n_components
        gmm = GaussianMixture(n_components=n_components, tol=self.tol, max_iter=self.max_iter, n_init=1,
                              random_state=seed)
        train_codes, valid_codes, test_codes = (self.codes(data, split) for split in ("train", "valid", "test"))
        with single_threaded_blas():
            gmm.fit(train_codes)
            valid_components, test_components = gmm.predict(valid_codes), gmm.predict(test_codes)
            if self.one2one:
                component_labels = one_to_one_labels(valid_components, valid_labels, classes)
            else:
                component_labels = most_probable_example_labels(gmm.predict_proba(valid_codes), valid_labels)
        valid_accuracy = float(np.mean(component_labels[valid_components] == valid_labels))
        # Table 8, "0" column: accuracy of the labels of the test examples' most probable components.
        correct = (component_labels[test_components] == test_labels).astype(float)
        accuracy = float(correct.mean())
        return TaskOutput(
            scores={"accuracy": accuracy, "valid_accuracy": valid_accuracy},
            n_examples=len(correct), per_example={"accuracy": correct.tolist()},
            examples_hash=example_ids_hash(data.corpus("test").sentences),
            extra={"n_components": n_components, "component_labels": component_labels.tolist(),
                   "converged": bool(gmm.converged_), "n_iter": int(gmm.n_iter_)},
        )


def most_probable_example_labels(valid_proba: np.ndarray, valid_labels: np.ndarray) -> np.ndarray:
    """Component k takes the label of argmax_x p(k | x) over the validation examples (the authors' rule)."""
    return valid_labels[np.argmax(valid_proba, axis=0)]


def one_to_one_labels(valid_components: np.ndarray, valid_labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One class per component, maximising the validation examples whose component's class is right."""
    n_components = len(classes)
    if valid_components.max(initial=0) >= n_components:
        raise ProbeError(f"one2one needs as many components as classes ({n_components})")
    agreement = np.zeros((n_components, len(classes)))
    np.add.at(agreement, (valid_components, np.searchsorted(classes, valid_labels)), 1)
    rows, cols = linear_sum_assignment(agreement, maximize=True)
    labels = np.empty(n_components, dtype=classes.dtype)
    labels[rows] = classes[cols]
    return labels
