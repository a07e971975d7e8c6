"""Sentence codes cached on disk as .npy, so tasks sharing a split (and later runs) encode it only once.

A file is keyed by what determines its contents: the encoder's weights hash, the split file's hash, the
split and how many sentences of it were taken. Files are written to a temp name and renamed, so a crash or
a concurrent run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from probe_common.atomic import replace_with
from probe_common.errors import ProbeError

CACHE_DIR_ENV = "PROBE_CACHE_DIR"


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "probe")


@dataclass(frozen=True)
class CacheKey:
    weights_sha256: str
    files_sha256: str  # of the split's file
    split: str
    n_sentences: int  # the first n sentences of the split (--max-sentences)

    def relative_path(self) -> Path:
        return Path(self.weights_sha256[:32]) / f"{self.files_sha256[:32]}-{self.split}-{self.n_sentences}.npy"


class EmbeddingCache:
    def __init__(self, cache_dir: str | os.PathLike | None = None):
        self.root = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    def path(self, key: CacheKey) -> Path:
        return self.root / key.relative_path()

    def get_or_compute(self, key: CacheKey, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached codes for key, computing and storing them on a miss."""
        path = self.path(key)
        if path.is_file():
            codes = np.load(path)
            if codes.ndim != 2 or codes.shape[0] != key.n_sentences:
                raise ProbeError(f"{path}: cached codes have shape {codes.shape}, expected {key.n_sentences} rows; "
                                 f"delete the file to re-encode")
            return codes
        codes = np.ascontiguousarray(compute(), dtype=np.float32)
        if codes.ndim != 2 or codes.shape[0] != key.n_sentences:
            raise ProbeError(f"the encoder returned codes of shape {codes.shape} for {key.n_sentences} sentences")
        replace_with(path, lambda handle: np.save(handle, codes))  # a full disk: one line; --cache-dir elsewhere
        return codes
