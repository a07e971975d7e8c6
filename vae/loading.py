"""Load a text VAE of this project (a run dir or its export), checking that it is one before it is used.

Only config.json, model.safetensors and tokenizer.json are read: nothing is unpickled and no code shipped in
the folder runs. Each problem (another model type, a wrong-typed config field, weights that do not fit the
config, a truncated file) is a one-line ModelLoadError naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from transformers import PreTrainedTokenizerFast

from probe_common.errors import ModelLoadError, one_line

from .configuration_textvae import TextVAEConfig
from .data.tokenizer import load_tokenizer
from .modeling_textvae import TextVAEModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
MODEL_TYPE = TextVAEConfig.model_type
CHECKPOINT = "checkpoints/last.pt"  # what an unfinished training run has instead of an export

POSITIVE_INT_FIELDS = ("vocab_size", "embed_dim", "encoder_hidden_size", "decoder_hidden_size", "latent_dim")
TOKEN_ID_FIELDS = ("pad_token_id", "unk_token_id", "bos_token_id", "eos_token_id")
RATE_FIELDS = ("dropout_in", "dropout_out")


def read_config(folder: str | os.PathLike) -> dict:
    """config.json of a model folder as a dict; a missing or unreadable file is a ModelLoadError."""
    folder = Path(folder)
    file = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ModelLoadError(f"{folder}: not a folder (a run dir or export of this project expected)")
    if not file.is_file():
        if (folder / CHECKPOINT).is_file():
            raise ModelLoadError(f"{folder}: training has not finished (no export yet); continue it with "
                                 "`probe train-vae ... --resume`")
        raise ModelLoadError(f"{folder}: not a trained run or export ({CONFIG_FILE} and {WEIGHTS_FILE} expected)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelLoadError(f"{file}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except (UnicodeDecodeError, OSError) as error:
        raise ModelLoadError(f"{file}: cannot read: {one_line(error)}") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{file}: expected a JSON object, got {type(data).__name__}")
    return data


def claims_textvae(config: dict) -> bool:
    """Whether a config says it is a text VAE of this project (then it must load as one, or fail loudly)."""
    architectures = config.get("architectures")
    return config.get("model_type") == MODEL_TYPE or (
        isinstance(architectures, list) and TextVAEModel.__name__ in architectures)


def load_textvae(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[TextVAEModel,
                                                                                    PreTrainedTokenizerFast]:
    """The full VAE (decoder too), in eval mode on `device`, and its tokenizer."""
    folder = Path(path)
    data = read_config(folder)
    model_type = data.get("model_type")
    if model_type != MODEL_TYPE:
        found = f"model_type {model_type!r}" if model_type else "no model_type"
        raise ModelLoadError(f"{folder}: not a text VAE run or export of this project ({CONFIG_FILE} has {found}, "
                             f"expected {MODEL_TYPE!r})")
    config = textvae_config(folder / CONFIG_FILE, data)
    model = TextVAEModel(config)
    model.load_state_dict(read_weights(folder / WEIGHTS_FILE, model.state_dict()))
    tokenizer = read_tokenizer(folder, config)
    return model.to(device).eval(), tokenizer


def textvae_config(file: Path, data: dict) -> TextVAEConfig:
    """TextVAEConfig from the dict of `file`, after checking the type of every field the model is built from."""
    def bad(field: str, expected: str):
        return ModelLoadError(f"{file}: {field} must be {expected}, got {data[field]!r}")

    for field in POSITIVE_INT_FIELDS:
        if field in data and not (_is_int(data[field]) and data[field] > 0):
            raise bad(field, "a positive integer")
    vocab_size = data.get("vocab_size", TextVAEConfig().vocab_size)
    for field in TOKEN_ID_FIELDS:
        if field in data and not (_is_int(data[field]) and 0 <= data[field] < vocab_size):
            raise bad(field, f"a token id from 0 to {vocab_size - 1}")
    for field in RATE_FIELDS:
        value = data.get(field, 0.0)
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1):
            raise bad(field, "a number from 0 to 1")
    if not isinstance(data.get("use_latent", True), bool):
        raise bad("use_latent", "true or false")
    if not isinstance(data.get("method"), (str, type(None))):
        raise bad("method", "a string")
    if not isinstance(data.get("training"), (dict, type(None))):
        raise bad("training", "an object")
    try:
        return TextVAEConfig.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ModelLoadError(f"{file}: not a text VAE config: {one_line(error)}") from None


def read_weights(file: Path, expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors of `file` (safetensors: no pickle), checked against the names and shapes the config gives."""
    if not file.is_file():
        raise ModelLoadError(f"{file}: missing (a run dir or export holds its weights in {WEIGHTS_FILE})")
    try:
        weights = load_file(file, device="cpu")
    except (SafetensorError, OSError) as error:
        raise ModelLoadError(f"{file}: not a readable safetensors file, perhaps truncated ({one_line(error)})") from None
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    mismatched = [f"{name} is {list(weights[name].shape)} but {CONFIG_FILE} needs {list(shape.shape)}"
                  for name, shape in expected.items() if name in weights and weights[name].shape != shape.shape]
    problems = ([f"missing {_first_few(missing)}"] if missing else []) + (
        [f"unexpected {_first_few(unexpected)}"] if unexpected else []) + mismatched[:2]
    if problems:
        raise ModelLoadError(f"{file}: does not match {CONFIG_FILE}: {'; '.join(problems)}")
    return weights


def read_tokenizer(folder: Path, config: TextVAEConfig) -> PreTrainedTokenizerFast:
    file = folder / TOKENIZER_FILE
    if not file.is_file():
        raise ModelLoadError(f"{file}: missing (the run's vocabulary)")
    try:
        tokenizer = load_tokenizer(folder)
    except (OSError, ValueError, TypeError) as error:
        raise ModelLoadError(f"{file}: not a readable tokenizer: {one_line(error)}") from None
    if len(tokenizer) != config.vocab_size:
        raise ModelLoadError(f"{file}: {len(tokenizer)} tokens, but {CONFIG_FILE} has vocab_size {config.vocab_size}")
    return tokenizer


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _first_few(names: list[str], shown: int = 3) -> str:
    more = f" (and {len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more

