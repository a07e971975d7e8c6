"""Percentile bootstrap intervals for scores and for differences between encoders, and the Student-t interval
of a mean over a few independent repeats (seeds, label draws, initialisations).

Thin wrappers over :func:`scipy.stats.bootstrap` that fix the conventions the
leaderboard uses everywhere: a 95% percentile interval, a seeded generator for
reproducible intervals, and resampling in batches so memory stays bounded for
long per-example lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

CONFIDENCE_LEVEL = 0.95
# Upper bound on resampled values held in memory at once (80 MB of float64).
_MAX_BATCH_VALUES = 10_000_000


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    statistic: Callable[..., float] = np.mean,
) -> tuple[float, float]:
    """The percentile 95% bootstrap interval ``(lo, hi)`` of ``statistic(values)``.

    ``statistic`` is called as ``statistic(sample, axis=-1)`` when it accepts
    ``axis`` (as numpy reductions do), which resamples in one vectorised pass.
    """
    sample = _sample(values, "values")
    return _interval((sample,), statistic, n_resamples, seed)


def student_t_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The 95% Student-t interval ``(lo, hi)`` of the mean of at least two independent values."""
    from scipy import stats

    sample = _sample(values, "values")
    mean = float(sample.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE_LEVEL / 2, sample.size - 1) * stats.sem(sample))
    return mean - half, mean + half


def paired_bootstrap_diff(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean_diff, lo, hi)`` of ``mean(b) - mean(a)`` for two systems on the same examples.

    ``a[i]`` and ``b[i]`` must be the two systems' values on example ``i``;
    examples are resampled jointly, so per-example difficulty cancels out.
    """
    a, b = _sample(a, "a"), _sample(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} and {b.size}")
    diff = b - a
    lo, hi = bootstrap_ci(diff, n_resamples=n_resamples, seed=seed)
    return float(diff.mean()), lo, hi


def unpaired_bootstrap_diff(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean_diff, lo, hi)`` of ``mean(b) - mean(a)`` for two independent samples.

    Each sample is resampled on its own; use this when the values do not come
    from the same examples (different example sets, or per-seed scores).
    """
    a, b = _sample(a, "a"), _sample(b, "b")
    lo, hi = _interval((a, b), _mean_difference, n_resamples, seed)
    return float(b.mean() - a.mean()), lo, hi


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(b, axis=axis) - np.mean(a, axis=axis)


def _sample(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    sample = np.asarray(values, dtype=float)
    if sample.ndim != 1 or sample.size < 2:
        raise ValueError(
            f"{name} must be a 1-D sample of at least 2 values, got shape {sample.shape}"
        )
    if not np.isfinite(sample).all():
        raise ValueError(f"{name} must hold finite values only")
    return sample


def _interval(
    samples: tuple[np.ndarray, ...],
    statistic: Callable[..., float],
    n_resamples: int,
    seed: int,
) -> tuple[float, float]:
    from scipy import stats  # here: scipy takes a tenth of a second to import, and only comparisons need it

    largest = max(sample.size for sample in samples)
    result = stats.bootstrap(
        samples,
        statistic,
        n_resamples=n_resamples,
        batch=max(1, _MAX_BATCH_VALUES // largest),
        confidence_level=CONFIDENCE_LEVEL,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)

