"""vae.loading: a run dir / export loads as a text VAE only when it is one, and every broken one is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from probe.cli import app
from probe.encoders import HuggingFaceEncoder, load_encoder
from vae.configuration_textvae import TextVAEConfig
from vae.data.tokenizer import build_tokenizer
from probe_common.errors import ModelLoadError
from vae.export import export_run
from vae.loading import load_textvae
from vae.modeling_textvae import TextVAEModel

SENTENCES = ["the dog runs .", "a cat sits on the mat .", "a dog and a cat sit near the door ."]
BERT_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"the a dog cat runs sits on mat .".split()]


def export_tiny_vae(folder: Path) -> TextVAEModel:
    tokenizer = build_tokenizer(SENTENCES)
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, method="pretrain-fb", training={"dataset": "snli", "lam": 4.0})
    torch.manual_seed(0)
    model = TextVAEModel(config)
    export_run(model, tokenizer, folder, metrics=None)
    return model


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A random one-layer BERT saved as any Hugging Face folder would be (no download)."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(BERT_WORDS) + "\n")
    config = BertConfig(vocab_size=len(BERT_WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


@pytest.fixture
def export(tmp_path) -> Path:
    export_tiny_vae(tmp_path / "vae")
    return tmp_path / "vae"


def edit_config(folder: Path, **fields) -> None:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **fields}))


# Each breaks an export and returns the file the error must name and what it must say.
def wrong_typed_field(folder: Path) -> tuple[str, str]:
    edit_config(folder, latent_dim="4")
    return "config.json", "latent_dim must be a positive integer, got '4'"


def shape_mismatch(folder: Path) -> tuple[str, str]:
    edit_config(folder, latent_dim=8)  # the weights were saved for 4
    return "model.safetensors", "does not match config.json: encoder.to_gaussian.weight is [8, 16] but config.json needs [16, 16]"


def missing_weights(folder: Path) -> tuple[str, str]:
    weights = load_file(folder / "model.safetensors")
    del weights["decoder.output.weight"]
    save_file(weights, folder / "model.safetensors")
    return "model.safetensors", "does not match config.json: missing decoder.output.weight"


def truncated_weights(folder: Path) -> tuple[str, str]:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    return "model.safetensors", "not a readable safetensors file, perhaps truncated"


BREAKAGES = [wrong_typed_field, shape_mismatch, missing_weights, truncated_weights]


def test_an_export_loads_with_its_weights_in_eval_mode(tmp_path):
    saved = export_tiny_vae(tmp_path / "vae")
    model, tokenizer = load_textvae(tmp_path / "vae")
    assert not model.training and len(tokenizer) == model.config.vocab_size
    for name, tensor in saved.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name


def test_a_bert_folder_is_not_scored_as_a_text_vae(tiny_bert):
    with pytest.raises(ModelLoadError, match=r"not a text VAE run or export of this project \(config.json has "
                                             r"model_type 'bert', expected 'textvae'\)"):
        load_textvae(tiny_bert)
    result = CliRunner().invoke(app, ["eval-lm", str(tiny_bert), "--dataset", "ptb", "--iw-samples", "2"])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [f"error: {tiny_bert}: not a text VAE run or export of this project "
                                          "(config.json has model_type 'bert', expected 'textvae')"]


def test_run_tasks_still_mean_pools_a_bert_folder(tiny_bert):
    assert isinstance(load_encoder(tiny_bert), HuggingFaceEncoder)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__)
def test_a_broken_export_is_one_line_naming_the_file(export, breakage):
    file_name, message = breakage(export)
    with pytest.raises(ModelLoadError) as caught:
        load_textvae(export)
    assert str(caught.value).startswith(f"{export / file_name}: {message}")
    with pytest.raises(ModelLoadError):  # run-tasks: a folder that says it is a text VAE must load as one
        load_encoder(export)
    board = str(export.parent / "board.json")
    for args in (["eval-lm", str(export)], ["run-tasks", "--encoder", str(export), "--tasks", "lm", "--leaderboard", board]):
        result = CliRunner().invoke(app, [*args, "--no-progress"])
        assert result.exit_code == 2, result.output
        assert result.output.splitlines() == [f"error: {caught.value}"]


def test_a_tokenizer_that_does_not_fit_the_config_is_refused(export):
    build_tokenizer(SENTENCES + ["zebras graze"]).save_pretrained(str(export))
    with pytest.raises(ModelLoadError, match=r"tokenizer.json: 19 tokens, but config.json has vocab_size 17"):
        load_textvae(export)


def test_a_folder_without_an_export_says_what_is_missing(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "last.pt").write_bytes(b"not read")
    with pytest.raises(ModelLoadError, match="training has not finished"):
        load_textvae(tmp_path / "run")
    with pytest.raises(ModelLoadError, match="not a folder"):
        load_textvae(tmp_path / "absent")
