"""The word-level tokenizer: no padding or truncation state left by an earlier call leaks into ids or saved files."""

import json

import torch

from vae.configuration_textvae import TextVAEConfig
from vae.data import build_tokenizer, load_tokenizer, save_tokenizer
from vae.data.tokenizer import encode
from vae.export import export_run
from vae.modeling_textvae import TextVAEModel

SENTENCES = ["the food was really great .", "bad ."]


def padded_and_truncated_call(tokenizer):
    """What a Hugging Face user (or the model card's example) does: it enables padding/truncation on the backend."""
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=4, return_tensors="pt")
    assert batch["input_ids"].shape == (2, 4)


def test_encode_is_unpadded_and_full_length_after_a_padded_truncated_call():
    tokenizer = build_tokenizer(SENTENCES)
    expected = encode(tokenizer, SENTENCES)
    assert [len(ids) for ids in expected] == [8, 4]  # <s> words </s>
    padded_and_truncated_call(tokenizer)
    assert encode(tokenizer, SENTENCES) == expected


def test_saved_and_exported_tokenizers_hold_no_padding_or_truncation(tmp_path):
    tokenizer = build_tokenizer(SENTENCES)
    expected = encode(tokenizer, SENTENCES)
    padded_and_truncated_call(tokenizer)
    save_tokenizer(tokenizer, tmp_path / "saved")
    torch.manual_seed(0)
    model = TextVAEModel(TextVAEConfig(vocab_size=len(tokenizer), embed_dim=4, encoder_hidden_size=4,
                                       decoder_hidden_size=4, latent_dim=2))
    export_run(model, tokenizer, tmp_path / "export", metrics=None)
    for folder in (tmp_path / "saved", tmp_path / "export"):
        saved = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        assert saved["padding"] is None and saved["truncation"] is None, folder
        assert encode(load_tokenizer(folder), SENTENCES) == expected
