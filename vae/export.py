"""The Hugging Face export of a run: config.json (with auto_map), model.safetensors, the modeling and config
files, tokenizer files and a model card, loadable offline by AutoModel/AutoTokenizer(trust_remote_code=True)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from transformers import AutoConfig, AutoModel, PreTrainedTokenizerFast

from probe_common.errors import WriteError

from . import atomic
from .configuration_textvae import TextVAEConfig
from .data.tokenizer import save_tokenizer
from .modeling_textvae import TextVAEModel

# The export carries its own code (auto_map); inside this project the classes are also registered locally,
# so loading a run here needs no trust_remote_code question.
TextVAEConfig.register_for_auto_class()
TextVAEModel.register_for_auto_class("AutoModel")
AutoConfig.register(TextVAEConfig.model_type, TextVAEConfig, exist_ok=True)
AutoModel.register(TextVAEConfig, TextVAEModel, exist_ok=True)


def export_run(model: TextVAEModel, tokenizer: PreTrainedTokenizerFast, run_dir: Path, metrics: dict | None) -> None:
    """Write the export into a temp folder first, then move each file into place (no half-written export)."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=run_dir, prefix=".export-"))
    except OSError as error:
        raise WriteError(run_dir, error) from None
    try:
        model.save_pretrained(staging)
        save_tokenizer(tokenizer, staging)  # without padding/truncation an earlier call left enabled
        for path in staging.iterdir():
            os.replace(path, run_dir / path.name)
    except OSError as error:  # e.g. a full disk: files are moved into run_dir only once all of them are saved
        raise WriteError(run_dir, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    atomic.write_text(run_dir / "README.md", model_card(model.config, metrics))


def model_card(config: TextVAEConfig, metrics: dict | None) -> str:
    training = config.training or {}
    lines = [
        "---",
        "library_name: transformers",
        "tags: [text-vae, sentence-embedding, probe]",
        "---",
        f"# Text VAE: {training.get('dataset', '?')}, method `{config.method}`",
        "",
        "A one-layer LSTM variational autoencoder of sentences (Li et al. 2019, \"A Surprisingly Effective Fix "
        "for Deep Latent Variable Modeling of Text\", Appendix A).",
        "",
        "```python",
        "from transformers import AutoModel, AutoTokenizer",
        "model = AutoModel.from_pretrained(PATH, trust_remote_code=True)",
        "tokenizer = AutoTokenizer.from_pretrained(PATH)",
        "batch = tokenizer([\"the food was great .\"], return_tensors=\"pt\", padding=True)",
        "mean = model(**batch).mean  # the sentence representation: the posterior mean, [batch, latent_dim]",
        "```",
        "",
        "## Training",
        "",
        f"- method: `{config.method}`; target rate lambda: {training.get('lam')} nats "
        f"(free bits per {training.get('free_bits_per', 'example')})",
        f"- sizes: embedding {config.embed_dim}, encoder {config.encoder_hidden_size}, "
        f"decoder {config.decoder_hidden_size}, latent {config.latent_dim}; vocabulary {config.vocab_size}",
        f"- preset: {training.get('preset', {}).get('name')}; seed {training.get('seed')}",
    ]
    if metrics:
        lines += ["", f"## Test metrics ({metrics['n_sentences']} sentences, {metrics['iw_samples']} importance samples)",
                  "", "| NLL | PPL | Recon | KL | -ELBO | ELBO PPL | MI | AU |", "|---|---|---|---|---|---|---|---|",
                  "| " + " | ".join(_cell(metrics.get(k)) for k in
                                    ("nll", "ppl", "recon", "kl", "neg_elbo", "elbo_ppl", "mi", "au")) + " |"]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)
