"""The labelled train subsets of few-label (Table 8): nested random draws, or the files the paper's release ships.

The authors draw each subset with scripts/sampling_training_labels.py: np.random.seed(783435) then
np.random.choice(len(train), n, replace=False) (sampling_training_labels.py:17,45). Legacy numpy's choice without
replacement is permutation(len(train))[:n], so with one seed the 100 labels are the first 100 of the 500 and so
on: the subsets are nested. Here each draw is one seeded permutation whose prefixes are the subsets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def nested_draw(n_train: int, sizes: list[int], rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Row indices of each subset: prefixes of one random permutation, so a smaller subset lies in each larger one."""
    order = rng.permutation(n_train)
    return {size: order[:size] for size in sizes}


def subset_file_names(size: int) -> tuple[str, ...]:
    """Where a dataset folder keeps its released subset of `size` labelled train examples."""
    return (f"train.{size}.tsv", f"train.{size}.tsv.gz")


def subset_files(folder: Path, sizes: list[int]) -> dict[int, Path]:
    """The released subset file of each size that the folder holds (sizes without one are left out)."""
    found = {}
    for size in sizes:
        for name in subset_file_names(size):
            if (folder / name).is_file():
                found[size] = folder / name
                break
    return found
