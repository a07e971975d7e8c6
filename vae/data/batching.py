"""Batches of sentences of exactly one length, as the authors' code makes them: no padding, no packing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, T] with <s> ... </s>, right-padded with pad_id
    lengths: torch.Tensor  # [B] real tokens per row, <s> and </s> included (CPU, int64)
    index: torch.Tensor  # [B] positions in the corpus, to put results back in order

    @property
    def attention_mask(self) -> torch.Tensor:
        positions = torch.arange(self.input_ids.size(1))
        return (positions[None, :] < self.lengths[:, None]).long()

    @property
    def n_predicted_tokens(self) -> int:
        """Words plus </s>: what perplexity counts (<s> is never predicted)."""
        return int((self.lengths - 1).sum())

    def to(self, device) -> "Batch":
        return Batch(self.input_ids.to(device, non_blocking=True), self.lengths, self.index)


def collate(token_ids: list[list[int]], index: list[int] | np.ndarray, pad_id: int = 0) -> Batch:
    lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.long)
    input_ids = torch.full((len(token_ids), int(lengths.max())), pad_id, dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return Batch(input_ids, lengths, torch.as_tensor(np.asarray(index), dtype=torch.long))


def equal_length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indices of each batch: the rows of one length, in increasing length and stable order within a length,
    cut into batches of at most `batch_size` (the authors' create_data_batch[_labels], data/text_data.py:177-217)."""
    lengths = np.asarray(lengths)
    order = np.argsort(lengths, kind="stable")
    batches = []
    for length in np.unique(lengths):
        rows = order[lengths[order] == length]
        batches.extend(rows[i : i + batch_size] for i in range(0, len(rows), batch_size))
    return batches


class EqualLengthBatcher:
    """Group sentences by exact length and cut each group into batches of at most `batch_size`; the order of
    batches is shuffled each epoch (seeded). Every batch holds one length, so the LSTMs run without padding or
    packing (the authors' create_data_batch, vae-pretraining-encoder data/text_data.py:219-260)."""

    def __init__(self, token_ids: list[list[int]], batch_size: int, pad_id: int = 0):
        self.token_ids, self.batch_size, self.pad_id = token_ids, batch_size, pad_id
        self.batches = equal_length_batches(np.array([len(ids) for ids in token_ids]), batch_size)

    def __len__(self) -> int:
        return len(self.batches)

    @property
    def n_sentences(self) -> int:
        return len(self.token_ids)

    def batch(self, position: int) -> Batch:
        rows = self.batches[position]
        return collate([self.token_ids[i] for i in rows], rows, self.pad_id)

    def epoch(self, rng: np.random.Generator | None = None):
        """Batches in a random order when rng is given, in length order otherwise."""
        order = rng.permutation(len(self.batches)) if rng is not None else range(len(self.batches))
        for position in order:
            yield self.batch(position)
