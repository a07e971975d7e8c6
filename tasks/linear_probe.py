"""The linear classifiers of few-label (Table 8), trained on the raw codes: never standardised.

Standardising would blow near-constant (inactive, collapsed) latent dimensions up to unit variance and make a
collapsed model look better than it is; the authors feed the posterior mean straight into the linear layer
(discriminator_linear.py:23-26).

- `train_linear_sgd` (default): the authors' text_ss_ft.py with --freeze_enc, i.e. a linear layer on mu with
  no dropout (discriminator_linear.py:24-26), cross-entropy, plain SGD, early stopping on the validation loss
  with learning-rate decay, the weights of the best validation loss kept.
- `train_logistic_regression` (option): L2 logistic regression, C chosen by validation accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SGDSettings:
    lr: float = 1.0  # text_ss_ft.py:75 (--lr); --opt sgd, --momentum 0 (text_ss_ft.py:40-41)
    batch_size: int = 16  # text_ss_ft.py:82 (params_ss_* leave batch_size unset: config_short_yelp.py:31)
    max_epochs: int = 100  # config_short_yelp.py:32
    clip_grad: float = 5.0  # text_ss_ft.py:21, applied at text_ss_ft.py:340
    decay_epoch: int = 2  # text_ss_ft.py:22: epochs without improvement before the learning rate decays
    lr_decay: float = 0.5  # text_ss_ft.py:23
    max_decay: int = 5  # text_ss_ft.py:24: training stops at the 5th decay (text_ss_ft.py:403)


@dataclass
class LinearClassifier:
    weight: np.ndarray  # [d, n_classes]
    bias: np.ndarray  # [n_classes]
    classes: np.ndarray  # the label of each output

    def predict(self, codes: np.ndarray) -> np.ndarray:
        return self.classes[np.argmax(np.asarray(codes, np.float64) @ self.weight + self.bias, axis=1)]


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


def train_linear_sgd(codes: np.ndarray, labels: np.ndarray, valid_codes: np.ndarray, valid_labels: np.ndarray,
                     classes: np.ndarray, rng: np.random.Generator,
                     settings: SGDSettings = SGDSettings()) -> FittedClassifier:
    """The authors' frozen-encoder linear probe (text_ss_ft.py:268-418 with --freeze_enc)."""
    x, y = np.asarray(codes, np.float64), np.searchsorted(classes, labels)
    valid_x, valid_y = np.asarray(valid_codes, np.float64), np.searchsorted(classes, valid_labels)
    bound = 1.0 / np.sqrt(x.shape[1])  # torch nn.Linear's default initialisation (discriminator_linear.py:18)
    weight = rng.uniform(-bound, bound, (x.shape[1], len(classes)))
    bias = rng.uniform(-bound, bound, len(classes))
    best = (weight.copy(), bias.copy())
    best_loss = plateau_loss = 1e4  # text_ss_ft.py:283 (best_loss) and :201 (opt_dict["best_loss"])
    lr, not_improved, decays, epoch = settings.lr, 0, 0, 0
    for epoch in range(1, settings.max_epochs + 1):
        order = rng.permutation(len(x))  # batches in a random order each epoch (text_ss_ft.py:316)
        for start in range(0, len(order), settings.batch_size):
            rows = order[start : start + settings.batch_size]
            error = softmax(x[rows] @ weight + bias)
            error[np.arange(len(rows)), y[rows]] -= 1.0
            error /= len(rows)  # the batch's mean loss (text_ss_ft.py:337)
            grad_weight, grad_bias = x[rows].T @ error, error.sum(axis=0)
            norm = np.sqrt(np.sum(grad_weight**2) + np.sum(grad_bias**2))
            scale = min(1.0, settings.clip_grad / (norm + 1e-6))  # torch.nn.utils.clip_grad_norm_
            weight -= lr * scale * grad_weight
            bias -= lr * scale * grad_bias
        loss = mean_cross_entropy(valid_x @ weight + bias, valid_y)
        if loss < best_loss:  # text_ss_ft.py:375-379: keep the weights of the best validation loss
            best_loss, best = loss, (weight.copy(), bias.copy())
        if loss > plateau_loss:  # text_ss_ft.py:381-397: decay and restart from the best weights
            not_improved += 1
            if not_improved >= settings.decay_epoch:
                plateau_loss, not_improved, decays = loss, 0, decays + 1
                lr *= settings.lr_decay
                weight, bias = best[0].copy(), best[1].copy()
        else:
            not_improved, plateau_loss = 0, loss
        if decays == settings.max_decay:
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
