"""Language-modelling metrics of Section 2.1 and Appendix C: IW NLL/PPL, Recon, KL, -ELBO, MI, AU."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import torch

from .data.batching import EqualLengthBatcher
from .modeling_textvae import GaussianLSTMEncoder, TextVAEModel
from .objectives import gaussian_kl_per_dim, importance_log_weights, iwae_log_likelihood
from .precision import autocast
from .presets import DEFAULT_IW_SAMPLES

AU_THRESHOLD = 0.01  # Section 2.1, after Burda et al. 2016
TIMING_FIELDS = ("seconds", "sentences_per_s")  # vary from run to run; every other figure is fixed by the seed


def without_timing(metrics: dict) -> dict:
    """The figures a seed fixes: a metrics dict less its wall-clock fields."""
    return {key: value for key, value in metrics.items() if key not in TIMING_FIELDS}


@dataclass
class LMMetrics:
    """Averages per sentence in nats; perplexities count every word and </s>."""

    nll: float  # -log p(x), importance-weighted estimate (exact for the LSTM-LM)
    ppl: float
    recon: float | None  # -E_q[log p(x|z)]
    kl: float | None
    neg_elbo: float | None
    elbo_ppl: float | None
    mi: float | None  # I_q, He et al. 2019's estimator
    au: int | None
    iw_samples: int
    n_sentences: int
    n_tokens: int
    precision: str = "fp32"  # of the model's matrix products; every sum and logsumexp is fp32 or fp64
    seconds: float | None = None  # wall time of the evaluation
    sentences_per_s: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def scores(self) -> dict[str, float]:
        """The metrics of SCORE_LABELS that this model has, as floats: an LSTM-LM has only NLL and PPL."""
        return {name: float(getattr(self, name)) for name in SCORE_LABELS if getattr(self, name) is not None}


# The one list of LM metric names (fields of LMMetrics), with how people see them.
SCORE_LABELS: dict[str, str] = {"nll": "NLL", "ppl": "PPL", "recon": "Recon", "kl": "KL", "neg_elbo": "-ELBO",
                                "elbo_ppl": "ELBO-PPL", "mi": "MI", "au": "AU"}


def format_metrics(metrics: dict) -> str:
    """One line of a metrics dict (LMMetrics.to_dict() with split etc.): what train-vae and eval-lm print."""
    def show(key):
        value = metrics.get(key)
        return "-" if value is None else str(value) if key == "au" else f"{value:.2f}"
    timing = f", {metrics['sentences_per_s']:g} sentences/s" if metrics.get("sentences_per_s") else ""
    return (f"{metrics.get('split', 'test')} ({metrics['n_sentences']} sentences, {metrics['iw_samples']} importance "
            f"samples, {metrics.get('precision', 'fp32')}{timing}): "
            + " ".join(f"{label} {show(name)}" for name, label in SCORE_LABELS.items()))


def active_unit_variances(means: torch.Tensor) -> torch.Tensor:
    """Cov_x(E_q[z]) per dimension: the variance of posterior means across the data (unbiased)."""
    return means.double().var(dim=0, unbiased=True)


def active_units(means: torch.Tensor, threshold: float = AU_THRESHOLD) -> int:
    """Section 2.1: a dimension is active when Cov_x(E_{q(z|x)}[z]) > 0.01."""
    return int((active_unit_variances(means) > threshold).sum())


def mutual_information(mean: torch.Tensor, logvar: torch.Tensor, chunk: int = 256) -> float:
    """I_q(x; z) as He et al. 2019 (Appendix C, note 13): E_x E_q(z|x)[log q(z|x)] - E_x E_q(z|x)[log q(z)],
    with q(z) the mixture of the posteriors of every x of the set and one z ~ q(z|x) per x."""
    mean, logvar = mean.double(), logvar.double()
    n, nz = mean.shape
    neg_entropy = (-0.5 * nz * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(-1)).mean()
    z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
    inv_var = (-logvar).exp()
    # sum_d (z_d - m_jd)^2 / v_jd expanded into matrix products, so no [n, n, nz] tensor is built.
    const = (mean.pow(2) * inv_var).sum(-1) + logvar.sum(-1) + nz * math.log(2 * math.pi)
    log_qz = torch.zeros((), dtype=torch.float64, device=mean.device)
    for start in range(0, n, chunk):
        zc = z[start : start + chunk]
        squared = zc.pow(2) @ inv_var.T - 2 * zc @ (mean * inv_var).T
        log_density = -0.5 * (squared + const)  # [chunk, n]: log q(z_i | x_j)
        log_qz = log_qz + (torch.logsumexp(log_density, dim=1) - math.log(n)).sum()
    return float(neg_entropy - log_qz / n)


@torch.no_grad()
def encode_posteriors(encoder: GaussianLSTMEncoder, batcher: EqualLengthBatcher,
                      device) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means and log-variances in corpus order: two [N, nz] tensors on the CPU."""
    nz = encoder.to_gaussian.out_features // 2
    means = torch.empty(batcher.n_sentences, nz)
    logvars = torch.empty(batcher.n_sentences, nz)
    for batch in batcher.epoch():
        mean, logvar = encoder(batch.input_ids.to(device), batch.lengths)
        means[batch.index], logvars[batch.index] = mean.float().cpu(), logvar.float().cpu()
    return means, logvars


def samples_per_chunk(batch_rows: int, seq_len: int, n_samples: int, max_decoder_tokens: int) -> int:
    return max(1, min(n_samples, max_decoder_tokens // max(1, batch_rows * seq_len)))


@torch.no_grad()
def evaluate_lm(
    model: TextVAEModel,
    batcher: EqualLengthBatcher,
    device,
    iw_samples: int = DEFAULT_IW_SAMPLES,
    max_decoder_tokens: int = 16_384,
    seed: int = 0,
    progress=None,
    precision: str = "fp32",
) -> LMMetrics:
    """All metrics in one pass: the encoder runs once per sentence, the samples go through the decoder in
    large batches, and Recon is the mean of -log p(x|z) over the same importance samples. `precision` is a
    resolved precision ("bf16" or "fp32", vae/precision.py); the result records it and the wall time."""
    started = time.perf_counter()
    with autocast(torch.device(device), precision):
        metrics = _evaluate_lm(model, batcher, device, iw_samples, max_decoder_tokens, seed, progress)
    seconds = time.perf_counter() - started
    return replace(metrics, precision=precision, seconds=round(seconds, 3),
                   sentences_per_s=round(metrics.n_sentences / seconds, 3))


def _evaluate_lm(model, batcher, device, iw_samples, max_decoder_tokens, seed, progress) -> LMMetrics:
    model.eval()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    n_tokens = sum(len(ids) - 1 for ids in batcher.token_ids)
    n_sentences = batcher.n_sentences
    try:
        if model.encoder is None:  # LSTM-LM: the likelihood is exact
            nll = sum(
                float(model.decoder.sentence_nll(b.input_ids.to(device), b.lengths, None).sum())
                for b in _tracked(batcher, progress)
            )
            return LMMetrics(nll / n_sentences, math.exp(nll / n_tokens), None, None, None, None, None, None,
                             0, n_sentences, n_tokens)
        log_px = recon = kl = 0.0
        means = torch.empty(n_sentences, model.config.latent_dim)
        logvars = torch.empty_like(means)
        for batch in _tracked(batcher, progress):
            input_ids = batch.input_ids.to(device)
            mean, logvar = model.encoder(input_ids, batch.lengths)
            means[batch.index], logvars[batch.index] = mean.float().cpu(), logvar.float().cpu()
            kl += float(gaussian_kl_per_dim(mean.float(), logvar.float()).sum())
            per_chunk = samples_per_chunk(input_ids.size(0), input_ids.size(1), iw_samples, max_decoder_tokens)
            log_weights, recon_nll = [], []
            for done in range(0, iw_samples, per_chunk):
                z = model.sample_latent(mean, logvar, min(per_chunk, iw_samples - done))
                nll_chunk = model.reconstruction_nll(input_ids, batch.lengths, z).float()
                log_weights.append(importance_log_weights(nll_chunk, z.float(), mean.float(), logvar.float()))
                recon_nll.append(nll_chunk)
            log_px += float(iwae_log_likelihood(torch.cat(log_weights, dim=1)).sum())
            recon += float(torch.cat(recon_nll, dim=1).mean(dim=1).sum())
        nll = -log_px
        return LMMetrics(
            nll=nll / n_sentences,
            ppl=math.exp(nll / n_tokens),
            recon=recon / n_sentences,
            kl=kl / n_sentences,
            neg_elbo=(recon + kl) / n_sentences,
            elbo_ppl=math.exp((recon + kl) / n_tokens),
            mi=mutual_information(means, logvars),
            au=active_units(means),
            iw_samples=iw_samples,
            n_sentences=n_sentences,
            n_tokens=n_tokens,
        )
    finally:
        torch.random.set_rng_state(generator_state)


def _tracked(batcher: EqualLengthBatcher, progress):
    batches = batcher.epoch()
    return progress(batches, total=len(batcher)) if progress is not None else batches


def posterior_statistics(model: TextVAEModel, batcher: EqualLengthBatcher, device) -> dict:
    """AU and MI of a set: cheap enough to log every epoch."""
    means, logvars = encode_posteriors(model.encoder, batcher, device)
    return {"au": active_units(means), "mi": mutual_information(means, logvars)}

