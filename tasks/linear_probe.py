"""The linear classifiers of few-label (Table 8), trained on the raw codes: never standardised.

Standardising would blow near-constant (inactive, collapsed) latent dimensions up to unit variance and make a
collapsed model look better than it is; the authors feed the posterior mean straight into the linear layer
(discriminator_linear.py:23-26).

- `train_linear_sgd` (default): the authors' text_ss_ft.py with --freeze_enc, i.e. a linear layer on mu with
  no dropout (discriminator_linear.py:24-26) and 10 outputs whatever the number of classes, cross-entropy, plain
  SGD on batches of sentences of one length, early stopping on the validation loss with learning-rate decay, the
  weights of the best validation loss kept.
- `train_logistic_regression` (option): L2 logistic regression, C chosen by validation accuracy.
- tasks.finetune_probe: the script's default, without --freeze_enc: the encoder is trained too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae.data.batching import equal_length_batches


@dataclass(frozen=True)
class SGDSettings:
    lr: float = 1.0  # text_ss_ft.py:75 (--lr); --opt sgd, --momentum 0 (text_ss_ft.py:40-41)
    batch_size: int = 16  # text_ss_ft.py:82 (params_ss_* leave batch_size unset: config_short_yelp.py:31)
    # The linear layer's outputs: nn.Linear(nz, ncluster) (discriminator_linear.py:18) with ncluster 10 in the Yelp
    # configs (config_short_yelp.py:38), so 8 of Yelp's 10 are never a target; more when the data has more classes.
    n_outputs: int = 10
    max_epochs: int = 100  # config_short_yelp.py:32
    clip_grad: float = 5.0  # text_ss_ft.py:21, applied at text_ss_ft.py:340
    decay_epoch: int = 2  # text_ss_ft.py:22: epochs without improvement before the learning rate decays
    lr_decay: float = 0.5  # text_ss_ft.py:23
    max_decay: int = 5  # text_ss_ft.py:24: training stops at the 5th decay (text_ss_ft.py:403)


@dataclass
class LinearClassifier:
    weight: np.ndarray  # [d, n_outputs]
    bias: np.ndarray  # [n_outputs]
    classes: np.ndarray  # the label of each of the first len(classes) outputs; the others name no class

    def predict(self, codes: np.ndarray) -> np.ndarray:
        return labels_of_outputs(np.asarray(codes, np.float64) @ self.weight + self.bias, self.classes)


def labels_of_outputs(logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The label of each row's highest output; where that output names no class, a label no example has, so the
    prediction counts as wrong (text_ss_ft.py compares torch.max over all outputs with the label)."""
    output = np.argmax(logits, axis=1)
    return np.where(output < len(classes), classes[np.minimum(output, len(classes) - 1)], classes.max() + 1)


@dataclass
class AuthorsPlateau:
    """text_ss_ft.py's schedule after each epoch's validation loss: keep the best weights (:375-379); after
    `decay_epoch` epochs above the last plateau loss, halve the learning rate and restart from the best weights
    (:381-397); stop at the `max_decay`th halving (:403)."""

    settings: SGDSettings
    best_loss: float = 1e4  # text_ss_ft.py:283
    plateau_loss: float = 1e4  # text_ss_ft.py:201 (opt_dict["best_loss"])
    not_improved: int = 0
    decays: int = 0

    def __post_init__(self) -> None:
        self.lr = self.settings.lr

    def after_epoch(self, loss: float) -> tuple[bool, bool]:
        """(a new best, so keep these weights; a decay, so restart from the best weights at self.lr)."""
        improved = loss < self.best_loss
        if improved:
            self.best_loss = loss
        decayed = False
        if loss > self.plateau_loss:
            self.not_improved += 1
            if self.not_improved >= self.settings.decay_epoch:
                self.plateau_loss, self.not_improved, self.decays = loss, 0, self.decays + 1
                self.lr *= self.settings.lr_decay
                decayed = True
        else:
            self.not_improved, self.plateau_loss = 0, loss
        return improved, decayed

    @property
    def done(self) -> bool:
        return self.decays == self.settings.max_decay


@dataclass
class FittedClassifier:
    classifier: LinearClassifier | object  # a LinearClassifier or a fitted sklearn estimator (both `predict`)
    chosen: float  # what validation chose: epochs trained (SGD) or C (logistic regression)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def mean_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(targets)), targets].mean())


def train_linear_sgd(codes: np.ndarray, labels: np.ndarray, lengths: np.ndarray, valid_codes: np.ndarray,
                     valid_labels: np.ndarray, classes: np.ndarray, rng: np.random.Generator,
                     settings: SGDSettings = SGDSettings()) -> FittedClassifier:
    """The authors' frozen-encoder linear probe (text_ss_ft.py:268-418 with --freeze_enc). `lengths` are the
    labelled sentences' word counts: a batch holds sentences of one length (text_ss_ft.py:297)."""
    x, y = np.asarray(codes, np.float64), np.searchsorted(classes, labels)
    valid_x, valid_y = np.asarray(valid_codes, np.float64), np.searchsorted(classes, valid_labels)
    n_outputs = max(settings.n_outputs, len(classes))
    bound = 1.0 / np.sqrt(x.shape[1])  # torch nn.Linear's default initialisation (discriminator_linear.py:18)
    weight = rng.uniform(-bound, bound, (x.shape[1], n_outputs))
    bias = rng.uniform(-bound, bound, n_outputs)
    batches = equal_length_batches(lengths, settings.batch_size)  # made once (text_ss_ft.py:297)
    best = (weight.copy(), bias.copy())
    schedule, epoch = AuthorsPlateau(settings), 0
    for epoch in range(1, settings.max_epochs + 1):
        for batch in rng.permutation(len(batches)):  # in a random order each epoch (text_ss_ft.py:316)
            rows = batches[batch]
            error = softmax(x[rows] @ weight + bias)
            error[np.arange(len(rows)), y[rows]] -= 1.0
            error /= len(rows)  # the batch's mean loss (text_ss_ft.py:337)
            grad_weight, grad_bias = x[rows].T @ error, error.sum(axis=0)
            norm = np.sqrt(np.sum(grad_weight**2) + np.sum(grad_bias**2))
            scale = min(1.0, settings.clip_grad / (norm + 1e-6))  # torch.nn.utils.clip_grad_norm_
            weight -= schedule.lr * scale * grad_weight
            bias -= schedule.lr * scale * grad_bias
        improved, decayed = schedule.after_epoch(mean_cross_entropy(valid_x @ weight + bias, valid_y))
        if improved:
            best = (weight.copy(), bias.copy())
        if decayed:
            weight, bias = best[0].copy(), best[1].copy()
        if schedule.done:
            break
    return FittedClassifier(LinearClassifier(best[0], best[1], classes), chosen=float(epoch))


def train_logistic_regression(codes: np.ndarray, labels: np.ndarray, valid_codes: np.ndarray,
                              valid_labels: np.ndarray, c_grid: tuple[float, ...], max_iter: int) -> FittedClassifier:
    """L2 logistic regression on the raw codes; C with the best validation accuracy (the first C on ties)."""
    from sklearn.linear_model import LogisticRegression

    best = None
    for c in c_grid:
        classifier = LogisticRegression(C=c, max_iter=max_iter).fit(codes, labels)
        accuracy = float(np.mean(classifier.predict(valid_codes) == valid_labels))
        if best is None or accuracy > best[0]:
            best = (accuracy, FittedClassifier(classifier, chosen=c))
    return best[1]
