"""Corpora -> sentences -> token ids -> length-bucketed batches."""

from .batching import Batch, EqualLengthBatcher, collate
from .corpus import Corpus, load_corpus, resolve_data_dir
from .registry import DATASETS, DatasetSpec
from .tokenizer import build_tokenizer, load_tokenizer, save_tokenizer

__all__ = [
    "Batch", "EqualLengthBatcher", "collate", "Corpus", "load_corpus", "resolve_data_dir",
    "DATASETS", "DatasetSpec", "build_tokenizer", "load_tokenizer", "save_tokenizer",
]
