import math

import numpy as np
import pytest
import torch

from vae.configuration_textvae import TextVAEConfig
from vae.data import EqualLengthBatcher
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
    batcher = EqualLengthBatcher(rows, batch_size=8)
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


def _model_that_uses_z(sigma=1.0) -> TextVAEModel:
    """Weights far larger than the init range: posteriors away from the prior and a decoder that depends on z,
    so the importance weights of one sentence differ by several nats."""
    model = _tiny_model()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * sigma)
    return model


def test_importance_weighted_nll_is_a_direct_logsumexp_of_unequal_weights(monkeypatch):
    model = _model_that_uses_z()
    rows = _sentences(n=12)
    batcher = EqualLengthBatcher(rows, batch_size=4)
    drawn = []  # (mean, logvar, z) of every sampling call, in the order evaluate_lm makes them
    sample = model.sample_latent

    def recording_sample(mean, logvar, n_samples):
        z = sample(mean, logvar, n_samples)
        drawn.append((mean, logvar, z))
        return z

    monkeypatch.setattr(model, "sample_latent", recording_sample)
    k = 50
    metrics = evaluate_lm(model, batcher, "cpu", iw_samples=k, seed=0, max_decoder_tokens=100)  # several chunks
    assert len(drawn) > len(batcher)

    log_px, recon, mean_log_weight = [], [], []
    calls = iter(drawn)
    with torch.no_grad():
        for batch in batcher.epoch():  # the same order as evaluate_lm: the chunks of one batch share `mean`
            mean, logvar, z = next(calls)
            chunks = [z]
            while sum(c.size(1) for c in chunks) < k:
                chunks.append(next(calls)[2])
            z = torch.cat(chunks, dim=1)
            for row, position in enumerate(batch.index.tolist()):
                ids = torch.tensor([rows[position]])  # the sentence alone: no padding
                log_p_x_given_z = -model.reconstruction_nll(ids, torch.tensor([ids.size(1)]), z[row : row + 1])[0]
                prior = torch.distributions.Normal(0.0, 1.0)
                posterior = torch.distributions.Normal(mean[row], (0.5 * logvar[row]).exp())
                weights = (log_p_x_given_z + prior.log_prob(z[row]).sum(-1) - posterior.log_prob(z[row]).sum(-1))
                weights = weights.double().numpy()
                assert len(torch.unique(z[row], dim=0)) == k  # no sample reused across chunks
                assert weights.max() - weights.min() > 1.0  # unequal weights: the test means something
                log_px.append(np.logaddexp.reduce(weights) - math.log(k))  # log (1/K sum_k exp w_k)
                mean_log_weight.append(weights.mean())
                recon.append(-float(log_p_x_given_z.mean()))
    n_tokens = sum(len(r) - 1 for r in rows)
    assert metrics.nll == pytest.approx(-np.mean(log_px), rel=1e-4)
    assert metrics.ppl == pytest.approx(math.exp(-np.sum(log_px) / n_tokens), rel=1e-4)
    assert metrics.recon == pytest.approx(np.mean(recon), rel=1e-4)
    # an estimator that averaged the log-weights (an ELBO) would be far outside the tolerance above
    assert -np.mean(mean_log_weight) - metrics.nll > 100 * 1e-4 * metrics.nll


def _falls_with_k(values_by_k: dict[int, list[float]]) -> bool:
    """Each mean over seeds is below the previous one by more than three standard errors of the difference."""
    ks = sorted(values_by_k)
    for small, large in zip(ks, ks[1:]):
        a, b = np.array(values_by_k[small]), np.array(values_by_k[large])
        standard_error = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        if not a.mean() - b.mean() > 3 * standard_error:
            return False
    return True


def test_importance_weighted_nll_falls_as_the_number_of_samples_grows():
    """Burda et al. 2016: E[log (1/k sum w)] rises with k, so the expected IW NLL falls (here over 8 seeds)."""
    model = _model_that_uses_z()
    batcher = EqualLengthBatcher(_sentences(), batch_size=8)
    nll, neg_elbo = {}, {}
    for k in (1, 4, 16, 64):
        runs = [evaluate_lm(model, batcher, "cpu", iw_samples=k, seed=seed) for seed in range(8)]
        nll[k] = [run.nll for run in runs]
        neg_elbo[k] = [run.neg_elbo for run in runs]
    assert _falls_with_k(nll)
    assert not _falls_with_k(neg_elbo)  # the ELBO does not depend on k: the check above can fail
    assert np.mean(nll[64]) < np.mean(neg_elbo[64]) - 1.0  # the IW bound is much tighter than the ELBO here


def test_importance_weighted_nll_does_not_depend_on_chunking():
    """One sample per decoder call or all at once is the same estimator: the same mean over seeds."""
    model = _model_that_uses_z()
    batcher = EqualLengthBatcher(_sentences(), batch_size=8)
    seeds = range(6)
    whole = np.array([evaluate_lm(model, batcher, "cpu", iw_samples=32, seed=s).nll for s in seeds])
    chunked = np.array([evaluate_lm(model, batcher, "cpu", iw_samples=32, seed=s, max_decoder_tokens=16).nll
                        for s in seeds])
    single = np.array([evaluate_lm(model, batcher, "cpu", iw_samples=1, seed=s).nll for s in seeds])
    standard_error = math.sqrt(whole.var(ddof=1) / len(whole) + chunked.var(ddof=1) / len(chunked))
    assert abs(whole.mean() - chunked.mean()) < 3 * standard_error
    assert single.mean() - chunked.mean() > 10 * standard_error  # chunks that reused one z would look like k=1


def test_lstm_lm_metrics_are_exact():
    config = TextVAEConfig(vocab_size=12, embed_dim=8, decoder_hidden_size=16, use_latent=False,
                           dropout_in=0.0, dropout_out=0.0)
    torch.manual_seed(0)
    model = TextVAEModel(config).eval()
    rows = _sentences()
    batcher = EqualLengthBatcher(rows, batch_size=8)
    metrics = evaluate_lm(model, batcher, "cpu", iw_samples=1000)
    with torch.no_grad():
        exact = sum(float(model.decoder.sentence_nll(b.input_ids, b.lengths, None).sum()) for b in batcher.epoch())
    assert metrics.nll == pytest.approx(exact / len(rows))
    assert metrics.recon is None and metrics.au is None


@pytest.mark.parametrize("packed", [False, True])
def test_scoring_in_row_chunks_gives_the_unchunked_token_nll(monkeypatch, packed):
    """Without gradients the output layer scores its rows in chunks (no full logits); the numbers are those of one
    cross-entropy over all rows, which is what the path with gradients computes."""
    import vae.modeling_textvae as modeling

    model = _tiny_model(vocab_size=30).eval()
    torch.manual_seed(1)
    input_ids = torch.randint(3, 30, (9, 7))
    lengths = torch.full((9,), 7) if not packed else torch.tensor([7, 7, 6, 5, 7, 4, 7, 3, 7])
    z = torch.randn(9, model.config.latent_dim)
    whole = model.decoder.token_nll(input_ids, lengths, z).detach()  # gradients on: one call over all rows
    monkeypatch.setattr(modeling, "SCORING_CHUNK_ROWS", 4)
    calls = []
    monkeypatch.setattr(model.decoder.output, "forward", lambda x, real=model.decoder.output.forward:
                        calls.append(x.size(0)) or real(x))
    with torch.no_grad():
        chunked = model.decoder.token_nll(input_ids, lengths, z)
    rows = int((lengths - 1).sum())
    assert calls == [4] * (rows // 4) + ([rows % 4] if rows % 4 else [])  # chunks of 4 rows, no full logits
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-6)
