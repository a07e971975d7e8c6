import math

import pytest
import torch

from vae.configuration_textvae import TextVAEConfig
from vae.data import LengthBucketBatcher
from vae.metrics import active_units, evaluate_lm, mutual_information
from vae.modeling_textvae import TextVAEModel


def test_active_units_on_constructed_means():
    torch.manual_seed(0)
    n = 4000
    means = torch.zeros(n, 4)
    means[:, 0] = torch.randn(n) * math.sqrt(0.05)  # variance 0.05 > 0.01: active
    means[:, 1] = torch.randn(n) * math.sqrt(0.002)  # 0.002: inactive
    means[:, 2] = 3.0  # constant: inactive
    means[:, 3] = torch.randn(n)  # 1.0: active
    assert active_units(means) == 2


def test_mutual_information_is_zero_when_the_posterior_ignores_x():
    torch.manual_seed(0)
    mean = torch.full((5000, 8), 0.3)
    logvar = torch.full((5000, 8), -1.0)
    assert abs(mutual_information(mean, logvar)) < 0.05


def test_mutual_information_of_two_separated_posteriors_is_log_two():
    torch.manual_seed(0)
    mean = torch.zeros(4000, 2)
    mean[::2, 0], mean[1::2, 0] = 20.0, -20.0  # two x-clusters whose posteriors do not overlap
    logvar = torch.zeros(4000, 2)
    assert mutual_information(mean, logvar) == pytest.approx(math.log(2), abs=0.01)


def _tiny_model(vocab_size=12) -> TextVAEModel:
    torch.manual_seed(0)
    config = TextVAEConfig(vocab_size=vocab_size, embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, dropout_in=0.0, dropout_out=0.0)
    return TextVAEModel(config).eval()


def _sentences(n=40, vocab_size=12):
    generator = torch.Generator().manual_seed(1)
    rows = []
    for i in range(n):
        length = 2 + i % 5
        rows.append([2] + torch.randint(4, vocab_size, (length,), generator=generator).tolist() + [3])
    return rows


def test_importance_weighted_nll_is_exact_when_decoder_ignores_z_and_q_is_the_prior():
    model = _tiny_model()
    with torch.no_grad():
        model.encoder.to_gaussian.weight.zero_()  # q(z|x) = N(0, I) = p(z)
        model.decoder.latent_to_state.weight.zero_()  # decoder state ignores z ...
        model.decoder.lstm.weight_ih_l0[:, model.config.embed_dim:].zero_()  # ... and so do its inputs
        # a non-zero initial state would come from z; zeroed above, so the decoder is a plain LM
    rows = _sentences()
    batcher = LengthBucketBatcher(rows, batch_size=8)
    metrics = evaluate_lm(model, batcher, "cpu", iw_samples=7, seed=0)
    exact = 0.0
    with torch.no_grad():
        for batch in batcher.epoch():
            z = torch.zeros(batch.input_ids.size(0), 1, 4)
            exact += float(model.reconstruction_nll(batch.input_ids, batch.lengths, z).sum())
    n_tokens = sum(len(r) - 1 for r in rows)
    assert metrics.nll == pytest.approx(exact / len(rows), rel=1e-5)
    assert metrics.ppl == pytest.approx(math.exp(exact / n_tokens), rel=1e-5)
    assert metrics.kl == pytest.approx(0.0, abs=1e-7)
    assert metrics.recon == pytest.approx(metrics.nll, rel=1e-5)  # log p(x|z) does not depend on z
    assert metrics.au == 0
    assert metrics.n_tokens == n_tokens and metrics.iw_samples == 7


def test_importance_weighted_nll_is_between_elbo_and_consistent_across_chunking():
    model = _tiny_model()
    with torch.no_grad():
        model.encoder.to_gaussian.weight.mul_(100)  # a posterior away from the prior
    batcher = LengthBucketBatcher(_sentences(), batch_size=8)
    big = evaluate_lm(model, batcher, "cpu", iw_samples=200, seed=3)
    assert big.nll <= big.neg_elbo + 1e-6  # the IW bound is tighter than the ELBO
    chunked = evaluate_lm(model, batcher, "cpu", iw_samples=200, seed=3, max_decoder_tokens=16)
    assert chunked.nll == pytest.approx(big.nll, rel=0.02)


def test_lstm_lm_metrics_are_exact():
    config = TextVAEConfig(vocab_size=12, embed_dim=8, decoder_hidden_size=16, use_latent=False,
                           dropout_in=0.0, dropout_out=0.0)
    torch.manual_seed(0)
    model = TextVAEModel(config).eval()
    rows = _sentences()
    batcher = LengthBucketBatcher(rows, batch_size=8)
    metrics = evaluate_lm(model, batcher, "cpu", iw_samples=1000)
    with torch.no_grad():
        exact = sum(float(model.decoder.sentence_nll(b.input_ids, b.lengths, None).sum()) for b in batcher.epoch())
    assert metrics.nll == pytest.approx(exact / len(rows))
    assert metrics.recon is None and metrics.au is None
