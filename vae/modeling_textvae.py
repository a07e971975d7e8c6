"""LSTM text VAE of Li et al. 2019 (Appendix A): a Gaussian LSTM encoder and an LSTM decoder fed z."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_textvae import TextVAEConfig


@dataclass
class TextVAEOutput(ModelOutput):
    """The posterior q(z|x) = N(mean, exp(logvar)); `mean` is the sentence representation."""

    mean: torch.Tensor | None = None
    logvar: torch.Tensor | None = None


def _lengths_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    return attention_mask.sum(dim=1).to("cpu", torch.long)


# Rows of the output layer scored at once without gradients (see LSTMDecoder._output_nll): 512 was the fastest of
# 256-2048 on the 2-core CPU (benchmarks/speed_vs_yardstick.py --scoring-chunk-rows).
SCORING_CHUNK_ROWS = 512


def _full_precision(tensor: torch.Tensor):
    """No autocast inside: small layers whose outputs need fp32 (they cost nothing next to the LSTMs)."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)


def _recurrent_precision(tensor: torch.Tensor):
    """The decoder LSTM trains in fp32 even under bf16 autocast: bf16 rounding of its state hides the small
    early signal of z, and the autoencoder stage then learns to use z epochs later (measured on the tiny preset:
    AU 0 until epoch 6 in bf16, AU 8 at epoch 5 in fp32, seed 2). Scoring without gradients runs it in bf16."""
    return _full_precision(tensor) if torch.is_grad_enabled() else contextlib.nullcontext()


def _all_full_length(lengths: torch.Tensor, width: int) -> bool:
    """Every row fills the batch: the LSTM can run on the plain tensor, without packing."""
    return bool((lengths == width).all())


class GaussianLSTMEncoder(nn.Module):
    """One-layer LSTM; its last hidden state gives the mean and log-variance of q(z|x)."""

    def __init__(self, config: TextVAEConfig):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(config.embed_dim, config.encoder_hidden_size, batch_first=True)
        self.to_gaussian = nn.Linear(config.encoder_hidden_size, 2 * config.latent_dim, bias=False)

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Always fp32, also under bf16 autocast: its mean is the representation every task probes, and its
        # mean and log-variance set the KL and free-bits terms.
        with _full_precision(input_ids):
            inputs = self.embed(input_ids)
            if not _all_full_length(lengths, input_ids.size(1)):
                inputs = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
            _, (last_hidden, _) = self.lstm(inputs)
            mean, logvar = self.to_gaussian(last_hidden[-1]).chunk(2, dim=-1)
        return mean, logvar


class LSTMDecoder(nn.Module):
    """One-layer LSTM language model; z is concatenated to every input embedding and initialises the state."""

    def __init__(self, config: TextVAEConfig):
        super().__init__()
        self.use_latent = config.use_latent
        latent_dim = config.latent_dim if config.use_latent else 0
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.dropout_in = nn.Dropout(config.dropout_in)
        self.dropout_out = nn.Dropout(config.dropout_out)
        self.lstm = nn.LSTM(config.embed_dim + latent_dim, config.decoder_hidden_size, batch_first=True)
        if config.use_latent:
            self.latent_to_state = nn.Linear(config.latent_dim, config.decoder_hidden_size, bias=False)
        self.output = nn.Linear(config.decoder_hidden_size, config.vocab_size, bias=False)

    def initial_state(self, z: torch.Tensor | None, batch: int, device) -> tuple[torch.Tensor, torch.Tensor] | None:
        if z is None:
            return None
        with _full_precision(z):
            cell = self.latent_to_state(z.float()).unsqueeze(0)
        return torch.tanh(cell), cell

    def step_inputs(self, input_ids: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        embedded = self.dropout_in(self.embed(input_ids))
        if z is None:
            return embedded
        return torch.cat([embedded, z.unsqueeze(1).expand(-1, input_ids.size(1), -1)], dim=-1)

    def token_nll(self, input_ids: torch.Tensor, lengths: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """-log p(x_t | x_<t, z) per target position: [N, T-1], zero past each sentence's end.

        input_ids: [N, T] with <s> ... </s>; lengths: [N] on the CPU; z: [N, nz] or None. Batches of one length
        run without packing; the output layer only ever sees real tokens. The loss is computed in fp32.
        """
        inputs, targets, steps = input_ids[:, :-1], input_ids[:, 1:], lengths - 1
        state = self.initial_state(z, input_ids.size(0), input_ids.device)
        if _all_full_length(steps, inputs.size(1)):
            with _recurrent_precision(input_ids):
                hidden, _ = self.lstm(self.step_inputs(inputs, z), state)
            return self._output_nll(self.dropout_out(hidden).flatten(0, 1), targets.flatten()).view_as(targets)
        packed = pack_padded_sequence(self.step_inputs(inputs, z), steps, batch_first=True, enforce_sorted=False)
        with _recurrent_precision(input_ids):
            hidden, _ = self.lstm(packed, state)
        packed_targets = pack_padded_sequence(targets, steps, batch_first=True, enforce_sorted=False)
        nll = self._output_nll(self.dropout_out(hidden.data), packed_targets.data)
        per_position, _ = pad_packed_sequence(packed._replace(data=nll.unsqueeze(-1)), batch_first=True,
                                              padding_value=0.0, total_length=inputs.size(1))
        return per_position.squeeze(-1)

    def _output_nll(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """-log softmax(output(hidden))[target] per row, in fp32. Without gradients (scoring: thousands of
        importance samples at once) the rows go through in chunks, so no full [rows, vocab] logits, nor their
        fp32 copy, is ever built: the memory traffic stays that of one chunk."""
        if torch.is_grad_enabled() or hidden.size(0) <= SCORING_CHUNK_ROWS:
            return F.cross_entropy(self.output(hidden).float(), targets, reduction="none")
        nll = torch.empty(hidden.size(0), dtype=torch.float32, device=hidden.device)
        for start in range(0, hidden.size(0), SCORING_CHUNK_ROWS):
            rows = slice(start, start + SCORING_CHUNK_ROWS)
            nll[rows] = F.cross_entropy(self.output(hidden[rows]).float(), targets[rows], reduction="none")
        return nll

    def sentence_nll(self, input_ids: torch.Tensor, lengths: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """-log p(x | z) per sentence: [N]."""
        return self.token_nll(input_ids, lengths, z).sum(dim=1)


class TextVAEPreTrainedModel(PreTrainedModel):
    config_class = TextVAEConfig
    base_model_prefix = "textvae"
    main_input_name = "input_ids"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        # Appendix A: embeddings U(-0.1, 0.1), every other weight U(-0.01, 0.01) (as the authors' code).
        if isinstance(module, nn.Embedding):
            nn.init.uniform_(module.weight, -self.config.embed_init_range, self.config.embed_init_range)
        elif isinstance(module, (nn.LSTM, nn.Linear)):
            for parameter in module.parameters(recurse=False):
                nn.init.uniform_(parameter, -self.config.lstm_init_range, self.config.lstm_init_range)


class TextVAEModel(TextVAEPreTrainedModel):
    """Encoder + decoder. `forward` returns the posterior; the decoder scores and generates text."""

    def __init__(self, config: TextVAEConfig):
        super().__init__(config)
        self.encoder = GaussianLSTMEncoder(config) if config.use_latent else None
        self.decoder = LSTMDecoder(config)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_) -> TextVAEOutput:
        if self.encoder is None:
            raise ValueError("this model is a language model without a latent variable: it has no encoder")
        if attention_mask is None:
            attention_mask = (input_ids != self.config.pad_token_id).long()
        mean, logvar = self.encoder(input_ids, _lengths_from_mask(attention_mask))
        return TextVAEOutput(mean=mean, logvar=logvar)

    def reset_decoder(self) -> None:
        """Re-initialise the decoder (stage 2 of Li et al.: keep the pretrained encoder only)."""
        self.decoder.apply(self._init_weights)

    @staticmethod
    def sample_latent(mean: torch.Tensor, logvar: torch.Tensor, n_samples: int) -> torch.Tensor:
        """z ~ q(z|x) by reparameterisation: [B, n_samples, nz]."""
        std = torch.exp(0.5 * logvar)
        noise = torch.randn(mean.size(0), n_samples, mean.size(1), device=mean.device, dtype=mean.dtype)
        return mean.unsqueeze(1) + noise * std.unsqueeze(1)

    def reconstruction_nll(self, input_ids: torch.Tensor, lengths: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) for z of shape [B, S, nz]: [B, S]. The S samples of a sentence go in one batch."""
        batch, n_samples, _ = z.shape
        repeated = input_ids.repeat_interleave(n_samples, dim=0)
        nll = self.decoder.sentence_nll(repeated, lengths.repeat_interleave(n_samples), z.reshape(batch * n_samples, -1))
        return nll.view(batch, n_samples)

    @torch.no_grad()
    def greedy_decode(self, z: torch.Tensor | None, max_length: int = 100, batch_size: int | None = None) -> list[list[int]]:
        """Greedy decoding from z [B, nz] (or B unconditional sentences when z is None); ids without <s>/</s>."""
        if z is None:
            batch_size = batch_size or 1
        else:
            batch_size = z.size(0)
        device = self.decoder.output.weight.device
        state = self.decoder.initial_state(z, batch_size, device)
        token = torch.full((batch_size, 1), self.config.bos_token_id, dtype=torch.long, device=device)
        finished = torch.zeros(batch_size, dtype=torch.bool, device=device)
        outputs: list[list[int]] = [[] for _ in range(batch_size)]
        for _ in range(max_length):
            hidden, state = self.decoder.lstm(self.decoder.step_inputs(token, z), state)
            token = self.decoder.output(hidden[:, -1]).argmax(dim=-1, keepdim=True)
            finished_now = token.squeeze(1) == self.config.eos_token_id
            for row in (~finished & ~finished_now).nonzero().flatten().tolist():
                outputs[row].append(int(token[row]))
            finished |= finished_now
            if bool(finished.all()):
                break
        return outputs

