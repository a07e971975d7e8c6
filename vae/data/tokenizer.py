"""A word-level vocabulary from the training split, stored as a Hugging Face `tokenizers` WordLevel tokenizer."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)  # ids 0..3


def build_tokenizer(train_sentences: list[str], min_count: int = 1) -> PreTrainedTokenizerFast:
    """Every word seen at least `min_count` times in the training split gets an id (1: every word, as He et al.
    2019); the others read as <unk>. <s> ... </s> wrap each sentence."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    counts = Counter(word for sentence in train_sentences for word in sentence.split())
    words = [w for w, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
             if n >= min_count and w not in SPECIAL_TOKENS]
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + tuple(words))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token=PAD, unk_token=UNK, bos_token=BOS, eos_token=EOS
    )


def _without_padding(backend: Tokenizer) -> Tokenizer:
    """The backend with no padding or truncation. A call such as `tokenizer(..., padding=True)` leaves both
    enabled on the shared backend; a copy drops them without changing the caller's tokenizer."""
    if backend.padding is None and backend.truncation is None:
        return backend
    plain = Tokenizer.from_str(backend.to_str())
    plain.no_padding()
    plain.no_truncation()
    return plain


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, folder: str | Path) -> None:
    """Saved without padding or truncation: tokenizer.json keeps them, and a loaded tokenizer would apply them."""
    backend = tokenizer.backend_tokenizer
    if backend.padding is not None or backend.truncation is not None:
        tokenizer = copy.deepcopy(tokenizer)
        tokenizer.backend_tokenizer.no_padding()
        tokenizer.backend_tokenizer.no_truncation()
    tokenizer.save_pretrained(str(folder))


def load_tokenizer(folder: str | Path) -> PreTrainedTokenizerFast:
    # Not AutoTokenizer: an export carries auto_map code, and AutoTokenizer would ask on the terminal to run it.
    return PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True)


def encode(tokenizer: PreTrainedTokenizerFast, sentences: list[str]) -> list[list[int]]:
    """Token ids with <s> and </s>, never padded or truncated (whatever an earlier call enabled)."""
    return [e.ids for e in _without_padding(tokenizer.backend_tokenizer).encode_batch(sentences)]


def decode(tokenizer: PreTrainedTokenizerFast, ids: list[int]) -> str:
    """Words up to the first </s>, without special tokens."""
    words = []
    for i in ids:
        token = tokenizer.convert_ids_to_tokens(int(i))
        if token == EOS:
            break
        if token not in (BOS, PAD):
            words.append(token)
    return " ".join(words)
