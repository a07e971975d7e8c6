"""Task-by-task comparison of two encoders with bootstrap intervals on the difference, and which one is
better: the direction of each score comes from the records (leaderboard.direction), not from tasks/."""

from __future__ import annotations

from dataclasses import dataclass, replace

from leaderboard.bootstrap import paired_bootstrap_diff, unpaired_bootstrap_diff
from leaderboard.direction import arrow, shared_direction
from leaderboard.errors import CorruptExamples, LeaderboardError, MissingExamples
from leaderboard.examples import with_examples
from leaderboard.schema import Leaderboard, TaskResult


@dataclass(frozen=True)
class Comparison:
    """Main scores of entries A and B on one task, and the 95% interval of ``b - a``.

    ``diff`` is ``b - a`` of the main scores; ``lo`` and ``hi`` bound the
    difference of the means of the resampled values (the same quantity when the
    main score is the mean of ``per_example`` or of the per-seed values). They
    are None when the results hold no values to resample, and ``note`` says how
    the interval was obtained or why there is none. ``higher_is_better`` is
    the recorded direction of the score (None: unknown or descriptive).
    """

    task_key: str
    score_name: str
    a: float
    b: float
    diff: float
    lo: float | None
    hi: float | None
    paired: bool
    note: str
    higher_is_better: bool | None = None

    @property
    def better(self) -> str | None:
        """"A" or "B", whichever scores better by the recorded direction; None for a tie or no direction."""
        if self.higher_is_better is None or self.diff == 0:
            return None
        return "B" if (self.diff > 0) == self.higher_is_better else "A"

    @property
    def interval_excludes_zero(self) -> bool | None:
        """Whether the 95% interval of ``b - a`` lies on the side of the difference, away from 0."""
        if self.lo is None or self.hi is None:
            return None
        return (self.diff > 0 and self.lo > 0) or (self.diff < 0 and self.hi < 0)

    @property
    def verdict(self) -> str:
        """Which entry is better and whether the interval supports it; empty for a descriptive score."""
        if self.higher_is_better is None:
            return ""
        if self.better is None:
            return "no difference"
        if self.interval_excludes_zero is None:
            return f"{self.better} better (no interval)"
        if self.interval_excludes_zero:
            return f"{self.better} better (interval excludes 0)"
        return f"{self.better} ahead, not significant (interval includes 0)"


def compare_entries(
    board: Leaderboard,
    entry_a: str,
    entry_b: str,
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[Comparison]:
    """Compare the main scores of two entries on every task both ran successfully.

    The interval is a paired bootstrap when both results keep ``per_example``
    values over the same examples (equal ``example_ids_hash``); otherwise an
    independent bootstrap of the difference from both results' per-example
    values, or failing that their per-seed values of the main score.
    """
    results_a = board.get_entry(entry_a).results
    results_b = board.get_entry(entry_b).results
    comparisons = []
    for key in sorted(results_a.keys() & results_b.keys()):
        (a, problem_a), (b, problem_b) = _with_values(board, results_a[key]), _with_values(board, results_b[key])
        if a.status != "ok" or b.status != "ok":
            continue
        if a.main_score_name != b.main_score_name:
            raise LeaderboardError(
                f"{key}: main scores differ ({a.main_score_name!r} for {entry_a!r}, "
                f"{b.main_score_name!r} for {entry_b!r}); the results are not comparable"
            )
        comparison = _compare(key, a, b, n_resamples, seed)
        problems = "; ".join(problem for problem in (problem_a, problem_b) if problem)
        if problems:
            comparison = replace(comparison, note=f"{problems}; {comparison.note}")
        comparisons.append(comparison)
    return comparisons


def _with_values(board: Leaderboard, result: TaskResult) -> tuple[TaskResult, str | None]:
    """The result with its per-example values, or without them and why: a missing or altered per-example file
    costs that result's paired statistics only, and the scores are still compared."""
    try:
        return with_examples(board.path, result), None
    except (MissingExamples, CorruptExamples) as error:
        return result, str(error)


def _compare(key: str, a: TaskResult, b: TaskResult, n_resamples: int, seed: int) -> Comparison:
    lo = hi = None
    paired = False
    shared_examples = a.example_ids_hash is not None and a.example_ids_hash == b.example_ids_hash
    seeds_a = a.per_seed.get(a.main_score_name, [])
    seeds_b = b.per_seed.get(b.main_score_name, [])
    if shared_examples and _resamplable(a.per_example) and _resamplable(b.per_example):
        if len(a.per_example) != len(b.per_example):
            raise LeaderboardError(
                f"{key}: same example_ids_hash but {len(a.per_example)} "
                f"and {len(b.per_example)} per-example values"
            )
        _, lo, hi = paired_bootstrap_diff(a.per_example, b.per_example, n_resamples, seed)
        paired = True
        note = f"paired bootstrap over {len(a.per_example)} shared examples"
    elif _resamplable(a.per_example) and _resamplable(b.per_example):
        _, lo, hi = unpaired_bootstrap_diff(a.per_example, b.per_example, n_resamples, seed)
        note = "unpaired bootstrap over per-example values (example sets differ)"
    elif _resamplable(seeds_a) and _resamplable(seeds_b):
        _, lo, hi = unpaired_bootstrap_diff(seeds_a, seeds_b, n_resamples, seed)
        note = f"unpaired bootstrap over per-seed values ({len(seeds_a)} and {len(seeds_b)} seeds)"
    else:
        note = "no interval: neither per-example nor per-seed values on both sides"
    return Comparison(
        higher_is_better=shared_direction([a, b]),
        task_key=key,
        score_name=a.main_score_name,
        a=a.main_score,
        b=b.main_score,
        diff=b.main_score - a.main_score,
        lo=lo,
        hi=hi,
        paired=paired,
        note=note,
    )


def _resamplable(values: list[float] | None) -> bool:
    # A bootstrap needs at least two values to say anything about spread.
    return values is not None and len(values) >= 2


def format_comparison(comparison: Comparison) -> str:
    """One line per task, e.g. ``few-label/yelp accuracy ↑: A 0.8100  B 0.8400  B−A +0.0300 [+0.0100, +0.0500]
    B better (interval excludes 0)  (paired bootstrap over 10000 shared examples)``."""
    c = comparison
    name = f"{c.score_name} {arrow(c.higher_is_better)}".rstrip()
    interval = f"[{c.lo:+.4f}, {c.hi:+.4f}]" if c.lo is not None else "[no interval]"
    verdict = f"  {c.verdict}" if c.verdict else ""
    return f"{c.task_key} {name}: A {c.a:.4f}  B {c.b:.4f}  B−A {c.diff:+.4f} {interval}{verdict}  ({c.note})"
