import math

import pytest
import torch

from vae.objectives import (
    cosine_cycle_lr,
    cyclic_weight,
    free_bits_kl,
    free_bits_total_kl,
    gaussian_kl_per_dim,
    iwae_log_likelihood,
    linear_anneal_weight,
    log_normal,
)


def test_kl_of_known_gaussians():
    mean = torch.tensor([[1.0, 0.0, 2.0]])
    logvar = torch.tensor([[0.0, math.log(2.0), math.log(0.5)]])
    kl = gaussian_kl_per_dim(mean, logvar)
    # 0.5 * (mu^2 + var - log var - 1), by hand
    expected = [0.5, 0.5 * (2.0 - math.log(2.0) - 1.0), 0.5 * (4.0 + 0.5 - math.log(0.5) - 1.0)]
    assert kl[0].tolist() == pytest.approx(expected)
    assert gaussian_kl_per_dim(torch.zeros(2, 4), torch.zeros(2, 4)).abs().max() == 0


def test_free_bits_gives_no_gradient_below_the_threshold():
    # lam = 0.8 over 4 dimensions: threshold 0.2 per dimension.
    kl = torch.tensor([[0.1, 0.5, 0.19, 1.0]], requires_grad=True)
    value = free_bits_kl(kl, lam=0.8)
    assert value.item() == pytest.approx(0.2 + 0.5 + 0.2 + 1.0)
    value.sum().backward()
    assert kl.grad.tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_free_bits_through_the_encoder_outputs():
    mean = torch.tensor([[0.1, 2.0]], requires_grad=True)  # KL_0 = 0.005 < 0.5, KL_1 = 2.0 > 0.5
    logvar = torch.zeros(1, 2, requires_grad=True)
    free_bits_kl(gaussian_kl_per_dim(mean, logvar), lam=1.0).sum().backward()
    assert mean.grad[0, 0] == 0 and mean.grad[0, 1] == pytest.approx(2.0)


def test_free_bits_per_batch_thresholds_the_batch_mean():
    kl = torch.tensor([[0.1, 0.0], [0.5, 0.0]], requires_grad=True)  # dim 0 mean 0.3 > 0.25, dim 1 mean 0 < 0.25
    value = free_bits_kl(kl, lam=0.5, batch_mean=True)
    assert value.tolist() == pytest.approx([0.3 + 0.25, 0.3 + 0.25])
    value.mean().backward()
    assert kl.grad.flatten().tolist() == pytest.approx([0.5, 0.0, 0.5, 0.0])
    # per example, the first example's dim 0 (0.1 < 0.25) would get no gradient
    kl.grad = None
    free_bits_kl(kl, lam=0.5).sum().backward()
    assert kl.grad.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_fbp_thresholds_the_whole_kl():
    kl = torch.tensor([2.0, 7.5], requires_grad=True)
    value = free_bits_total_kl(kl, lam=3.0)
    assert value.tolist() == [3.0, 7.5]
    value.sum().backward()
    assert kl.grad.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("step, expected", [(1, 0.001), (500, 0.5), (999, 0.999), (1000, 1.0), (5000, 1.0)])
def test_linear_anneal_reaches_one_after_ten_epochs(step, expected):
    assert linear_anneal_weight(step, steps_per_epoch=100, anneal_epochs=10) == pytest.approx(expected)


@pytest.mark.parametrize("step", [1, 2, 100, 900, 1000, 1200])
def test_linear_anneal_from_kl_start_as_he_et_al(step):
    # text.py:337-364: kl_weight = 0.1, then before each update kl_weight = min(1, kl_weight + 0.9 / (10 * S)),
    # with S = sentences / batch size (here 3000 / 32, not a whole number).
    steps_per_epoch = 3000 / 32
    weight = 0.1
    for _ in range(step):
        weight = min(1.0, weight + (1.0 - 0.1) / (10 * steps_per_epoch))
    assert linear_anneal_weight(step, steps_per_epoch, anneal_epochs=10, start=0.1) == pytest.approx(weight)


# Liu et al.'s text code (train_text_cyc_ptb.py:172-178): beta = 0.1 at the start of every cycle of 10 epochs, then
# before each update beta = min(1, beta + 1 / (5 * batches per epoch)). With 100 batches per epoch the k-th update
# of a cycle has 0.1 + k / 500 (capped at 1), and a cycle is 1000 updates.
@pytest.mark.parametrize(
    "step, expected",
    [(1, 0.1 + 1 / 500), (2, 0.1 + 2 / 500), (250, 0.1 + 250 / 500), (449, 0.1 + 449 / 500), (450, 1.0),
     (1000, 1.0), (1001, 0.1 + 1 / 500), (1250, 0.1 + 250 / 500), (2001, 0.1 + 1 / 500), (3450, 1.0)],
)
def test_cyclic_weight_follows_liu_et_al(step, expected):
    assert cyclic_weight(step, steps_per_epoch=100, cycle_epochs=10, rise_epochs=5, start=0.1) == pytest.approx(expected)


def test_cyclic_weight_at_the_first_step_of_every_cycle_matches_their_loop():
    # Their loop run by hand: 4 cycles of 3 epochs of 7 batches, rising over 2 epochs from 0.1.
    batches, cycle, warmup = 7, 3, 2
    expected, beta = [], 0.1
    for epoch in range(1, 4 * cycle + 1):
        if (epoch - 1) % cycle == 0:
            beta = 0.1
        for _ in range(batches):
            beta = min(1, beta + 1.0 / (warmup * batches))
            expected.append(beta)
    got = [cyclic_weight(step, batches, cycle, warmup, 0.1) for step in range(1, len(expected) + 1)]
    assert got == pytest.approx(expected)
    first_steps = [got[(c * cycle) * batches] for c in range(4)]
    assert first_steps == pytest.approx([0.1 + 1 / 14] * 4)


@pytest.mark.parametrize("epoch, expected", [(0, 1e-3), (5, 0.5e-3), (9, 0.5e-3 * (1 + math.cos(0.9 * math.pi))),
                                             (10, 1e-3), (15, 0.5e-3), (39, 0.5e-3 * (1 + math.cos(0.9 * math.pi)))])
def test_cosine_lr_restarts_with_every_cycle(epoch, expected):
    # Liu et al.: lr * 0.5 * (1 + cos(pi * ((epoch - 1) % cycle) / cycle)) with 1-based epochs (:167-168).
    assert cosine_cycle_lr(epoch, base_lr=1e-3, cycle_epochs=10) == pytest.approx(expected)


def test_iwae_bound_of_equal_weights_is_the_weight():
    log_weights = torch.full((3, 10), -4.2)
    assert iwae_log_likelihood(log_weights).tolist() == pytest.approx([-4.2] * 3)


def test_log_normal_matches_torch_distributions():
    z, mean, logvar = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3)
    reference = torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    assert torch.allclose(log_normal(z, mean, logvar), reference, atol=1e-5)


# ---- typed objectives and schedules -------------------------------------------------------------------------


def _tiny_model_and_batch(use_latent=True):
    from vae.configuration_textvae import TextVAEConfig
    from vae.data import collate
    from vae.modeling_textvae import TextVAEModel

    torch.manual_seed(0)
    model = TextVAEModel(TextVAEConfig(vocab_size=12, embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                                       latent_dim=4, use_latent=use_latent, dropout_in=0.0, dropout_out=0.0)).eval()
    rows = [[2, 5, 6, 7, 3], [2, 8, 9, 3], [2, 4, 3]]
    return model, collate(rows, range(len(rows)))


@pytest.mark.parametrize("kinds", [
    {"objective": "elbo"},  # the old magic string
    {"objective": "ELBO"},
    {"kl_schedule": "anneal"},
    {"kl_schedule": "anneall"},  # misspelt: trained at weight 1 before
    {"lr_schedule": "cosine"},
    {"kl_start": 0.1},  # a start without an annealing schedule
])
def test_a_stage_with_an_unknown_objective_or_schedule_fails_when_defined(kinds):
    import dataclasses

    from vae.methods import METHODS

    plain_elbo = METHODS["vae"].stages[0]
    with pytest.raises((TypeError, ValueError), match="must be one of|start of a LinearAnneal"):
        dataclasses.replace(plain_elbo, **kinds)  # builds a Stage: it must not train at weight 1


def test_objectives_are_frozen_values_that_carry_their_parameters():
    import dataclasses

    from vae.objectives import ELBO, IWAE, FreeBits, FreeBitsTotal

    assert FreeBits(3.0) == FreeBits(lam=3.0, per="example") != FreeBits(3.0, per="batch")
    assert IWAE(k=10).k == 10 and FreeBitsTotal(9.0).lam == 9.0 and ELBO() == ELBO()
    with pytest.raises(dataclasses.FrozenInstanceError):
        FreeBits(3.0).lam = 4.0
    for bad in (lambda: FreeBits(None), lambda: FreeBits(-1.0), lambda: FreeBits(3.0, per="minibatch"),
                lambda: FreeBitsTotal(0.0), lambda: IWAE(k=0)):
        with pytest.raises(ValueError):
            bad()
    # Built from a run's settings: only the ones each objective uses.
    assert FreeBits.for_run(lam=6.0, free_bits_per="batch", iwae_samples=10) == FreeBits(6.0, "batch")
    assert IWAE.for_run(lam=None, free_bits_per="example", iwae_samples=7) == IWAE(7)
    assert ELBO.for_run(lam=None, free_bits_per="example", iwae_samples=7) == ELBO()


def test_each_objective_weights_its_kl_term_as_the_paper():
    from vae.objectives import ELBO, Autoencoder, FreeBits, FreeBitsTotal, LanguageModel

    model, batch = _tiny_model_and_batch()
    with torch.no_grad():
        mean, logvar = model.encoder(batch.input_ids, batch.lengths)
    kl_per_dim = gaussian_kl_per_dim(mean, logvar)
    kl = kl_per_dim.sum(-1)
    expected_kl_term = {
        Autoencoder(): torch.zeros_like(kl),
        ELBO(): kl,
        FreeBits(8.0): free_bits_kl(kl_per_dim, 8.0),
        FreeBits(8.0, per="batch"): free_bits_kl(kl_per_dim, 8.0, batch_mean=True),
        FreeBitsTotal(8.0): free_bits_total_kl(kl, 8.0),
    }
    for objective, kl_term in expected_kl_term.items():
        torch.manual_seed(3)
        with torch.no_grad():
            result = objective.loss(model, batch, kl_weight=0.5)
        assert torch.allclose(result.kl, kl, atol=1e-6)
        assert float(result.loss) == pytest.approx(float((result.recon + 0.5 * kl_term).mean()), rel=1e-6), objective
    lm, lm_batch = _tiny_model_and_batch(use_latent=False)
    with torch.no_grad():
        result = LanguageModel().loss(lm, lm_batch)
    assert result.kl is None and float(result.loss) == pytest.approx(float(result.recon.mean()))


def test_kl_schedules_are_callables_built_once():
    from vae.objectives import ConstantWeight, CyclicWeight, LinearAnneal

    assert [ConstantWeight()(step) for step in (1, 10, 10_000)] == [1.0, 1.0, 1.0]
    anneal = LinearAnneal(start=0.1, epochs=10, steps_per_epoch=100 / 32)
    assert [anneal(step) for step in (1, 20, 40)] == [linear_anneal_weight(s, 100 / 32, 10, 0.1) for s in (1, 20, 40)]
    cyclic = CyclicWeight(steps_per_epoch=100, cycle_epochs=10, rise_epochs=5, start=0.1)
    assert [cyclic(step) for step in (1, 1001, 3450)] == [cyclic_weight(s, 100, 10, 5, 0.1) for s in (1, 1001, 3450)]
