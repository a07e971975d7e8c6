"""The authors' default few-label classifier: text_ss_ft.py without --freeze_enc trains the VAE's encoder together
with the linear layer on its posterior mean (the paper's text says the classifier is trained "on the pretrained
latent codes", which tasks.linear_probe does; this is the code's default, offered as `few-label-finetune`).

As the script: a copy of the encoder, dropout 0.5 on mu while training (discriminator_linear.py:19,24-25), a linear
layer with 10 outputs, SGD on the encoder and the layer together with gradient clipping, batches of sentences of one
length, and the validation-loss schedule of tasks.linear_probe.AuthorsPlateau. Always IEEE fp32.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tasks.linear_probe import AuthorsPlateau, FittedClassifier, SGDSettings, labels_of_outputs, mean_cross_entropy
from vae.data.batching import EqualLengthBatcher, equal_length_batches
from vae.data.tokenizer import encode as encode_words
from vae.metrics import encode_posteriors

EVAL_BATCH_SIZE = 128  # text_ss_ft.py:301-307 (validation and test batches)
MU_DROPOUT = 0.5  # discriminator_linear.py:19, applied only when the encoder is trained (:24-25)


@dataclass
class FineTunedClassifier:
    """A fine-tuned copy of the encoder and its linear layer; predicts from sentences."""

    encoder: nn.Module
    linear: nn.Linear
    tokenizer: object
    pad_id: int
    classes: np.ndarray
    device: torch.device

    def batches(self, sentences) -> EqualLengthBatcher:
        """A list (or object array) of sentences, tokenised and batched for scoring."""
        return EqualLengthBatcher(encode_words(self.tokenizer, list(sentences)), EVAL_BATCH_SIZE, pad_id=self.pad_id)

    @torch.no_grad()
    def logits(self, batcher: EqualLengthBatcher) -> np.ndarray:
        self.encoder.eval()
        means, _ = encode_posteriors(self.encoder, batcher, self.device)
        return self.linear(means.to(self.device)).double().cpu().numpy()

    def predict(self, sentences) -> np.ndarray:
        return labels_of_outputs(self.logits(self.batches(sentences)), self.classes)


def finetune_linear_sgd(model, tokenizer, sentences: list[str], labels: np.ndarray, valid_sentences: list[str],
                        valid_labels: np.ndarray, classes: np.ndarray, seed: int,
                        settings: SGDSettings = SGDSettings()) -> FittedClassifier:
    """text_ss_ft.py:268-418 without --freeze_enc, on a copy of `model`'s encoder (the model is left as it was).
    `seed` fixes the linear layer's initialisation, the dropout masks and the batch order."""
    device = next(model.encoder.parameters()).device
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        linear = nn.Linear(model.config.latent_dim, max(settings.n_outputs, len(classes))).to(device)
        classifier = FineTunedClassifier(copy.deepcopy(model.encoder).float(), linear, tokenizer,
                                         model.config.pad_token_id, classes, device)
        parameters = [*classifier.encoder.parameters(), *classifier.linear.parameters()]
        dropout, loss_of = nn.Dropout(MU_DROPOUT), nn.CrossEntropyLoss()
        token_ids = encode_words(tokenizer, sentences)
        targets = torch.as_tensor(np.searchsorted(classes, labels), device=device)
        valid_batches, valid_targets = classifier.batches(valid_sentences), np.searchsorted(classes, valid_labels)
        # Made once (text_ss_ft.py:297): each batch's token ids and targets.
        batches = [(torch.as_tensor(np.array([token_ids[row] for row in rows]), device=device), targets[rows])
                   for rows in equal_length_batches(np.array([len(ids) for ids in token_ids]), settings.batch_size)]
        schedule, epoch = AuthorsPlateau(settings), 0
        best = state_of(classifier)
        for epoch in range(1, settings.max_epochs + 1):
            classifier.encoder.train()
            # Plain SGD keeps no state: a new one each epoch is the authors' rebuild at each decay (text_ss_ft.py:391).
            optimizer = torch.optim.SGD(parameters, lr=schedule.lr)
            for batch in rng.permutation(len(batches)):  # in a random order each epoch (text_ss_ft.py:316)
                input_ids, batch_targets = batches[batch]
                mean, _ = classifier.encoder(input_ids, torch.full((len(input_ids),), input_ids.size(1)))
                loss = loss_of(classifier.linear(dropout(mean)), batch_targets)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, settings.clip_grad)
                optimizer.step()
            valid_loss = mean_cross_entropy(classifier.logits(valid_batches), valid_targets)
            improved, decayed = schedule.after_epoch(valid_loss)
            if improved:
                best = state_of(classifier)
            if decayed:
                load_state(classifier, best)
            if schedule.done:
                break
        load_state(classifier, best)  # text_ss_ft.py:414
    return FittedClassifier(classifier, chosen=float(epoch))


def state_of(classifier: FineTunedClassifier) -> tuple[dict, dict]:
    return ({k: v.detach().clone() for k, v in classifier.encoder.state_dict().items()},
            {k: v.detach().clone() for k, v in classifier.linear.state_dict().items()})


def load_state(classifier: FineTunedClassifier, state: tuple[dict, dict]) -> None:
    classifier.encoder.load_state_dict(state[0])
    classifier.linear.load_state_dict(state[1])
