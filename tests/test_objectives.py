import math

import pytest
import torch

from vae.objectives import (
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


@pytest.mark.parametrize(
    "step, expected",
    [(1, 0.1), (2, 0.102), (251, 0.6), (451, 1.0), (1000, 1.0), (1001, 0.1), (1251, 0.6)],
)
def test_cyclic_weight_restarts_every_cycle(step, expected):
    # 100 steps per epoch: a cycle is 1000 steps, the rise from 0.1 takes 500 steps.
    assert cyclic_weight(step, steps_per_epoch=100, cycle_epochs=10, rise_epochs=5, start=0.1) == pytest.approx(expected)


def test_iwae_bound_of_equal_weights_is_the_weight():
    log_weights = torch.full((3, 10), -4.2)
    assert iwae_log_likelihood(log_weights).tolist() == pytest.approx([-4.2] * 3)


def test_log_normal_matches_torch_distributions():
    z, mean, logvar = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3)
    reference = torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    assert torch.allclose(log_normal(z, mean, logvar), reference, atol=1e-5)
