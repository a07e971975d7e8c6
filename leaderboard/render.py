"""The leaderboard as one self-contained HTML page: table, plots and interpolations.

Plots are drawn with matplotlib's Agg canvas (no display, no pyplot global
state) and embedded as base64 PNG, so the page has no external assets and can
be mailed or archived as a single file.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vae.atomic import write_text
from leaderboard.errors import LeaderboardError
from leaderboard.schema import Leaderboard, TaskResult, utc_now
from leaderboard.table import format_cell, show_table


@dataclass(frozen=True)
class _CurvePlot:
    """How to draw one task's ``extra["curve"]`` (a mapping x -> y) per entry."""

    task: str
    title: str
    x_label: str
    y_label: str
    log_x: bool


_CURVE_PLOTS = (
    _CurvePlot("few-label", "Few-label accuracy", "number of labels", "accuracy", log_x=True),
    _CurvePlot("noisy-recon", "Reconstruction under noise", "k", "loss", log_x=False),
)
_SCATTER_TASK = "smoothness"

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #777; font-style: italic; }
img { max-width: 100%; }
"""


def render_html(board: Leaderboard, out_path: str | os.PathLike) -> Path:
    """Write the leaderboard page to ``out_path`` atomically and return the path.

    Plots are drawn from ``extra`` of successful results: few-label accuracy
    against number of labels, noisy-reconstruction loss against k, and the
    smoothness scatter; ``extra["interpolations"]`` of any task is shown as
    text. A plot without data is replaced by a note.
    """
    sections = [_table_section(board)]
    for plot in _CURVE_PLOTS:
        sections.append(_curve_section(board, plot))
    sections.append(_scatter_section(board))
    sections.append(_interpolation_section(board))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>Leaderboard</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>Leaderboard</h1>\n<p class=\"note\">Generated {_e(utc_now())}.</p>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_text(out_path, page)
    return out_path


def _e(text: object) -> str:
    return html.escape(str(text))


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _table_section(board: Leaderboard) -> str:
    columns, rows = show_table(board)
    if not rows:
        return "<h2>Scores</h2>\n" + _note("No results yet.")
    header = "".join(f"<th>{_e(column)}</th>" for column in columns)
    body = []
    for entry_id, *cells in rows:
        scores = "".join(f'<td class="num">{_e(format_cell(cell))}</td>' for cell in cells)
        body.append(f"<tr><td>{_e(entry_id)}</td>{scores}</tr>")
    return (
        "<h2>Scores</h2>\n<table>\n"
        f"<thead><tr>{header}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"
    )


def _results_of(board: Leaderboard, task: str | None = None) -> Iterator[tuple[str, TaskResult]]:
    """``(entry_id, result)`` for the successful results of ``task`` (any task if None)."""
    for entry_id, entry in sorted(board.entries.items()):
        for _, result in sorted(entry.results.items()):
            if result.status == "ok" and (task is None or result.task == task):
                yield entry_id, result


def _curve_section(board: Leaderboard, plot: _CurvePlot) -> str:
    by_dataset: dict[str, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for entry_id, result in _results_of(board, plot.task):
        if "curve" in result.extra:
            by_dataset[result.dataset].append((entry_id, _curve(entry_id, result)))
    parts = [f"<h2>{_e(plot.title)}</h2>"]
    if not by_dataset:
        parts.append(_note(f"No {plot.task} curves on this board."))
    for dataset, curves in sorted(by_dataset.items()):
        figure, axes = _new_figure()
        for entry_id, points in curves:
            axes.plot(points[:, 0], points[:, 1], marker="o", label=entry_id)
        if plot.log_x:
            axes.set_xscale("log")
        axes.set(title=f"{plot.task}/{dataset}", xlabel=plot.x_label, ylabel=plot.y_label)
        axes.legend(fontsize="small")
        parts.append(_image(figure, f"{plot.title} on {dataset}"))
    return "\n".join(parts)


def _scatter_section(board: Leaderboard) -> str:
    by_dataset: dict[str, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for entry_id, result in _results_of(board, _SCATTER_TASK):
        if "scatter" in result.extra:
            by_dataset[result.dataset].append((entry_id, _scatter(entry_id, result)))
    parts = ["<h2>Smoothness</h2>"]
    if not by_dataset:
        parts.append(_note(f"No {_SCATTER_TASK} scatter on this board."))
    for dataset, scatters in sorted(by_dataset.items()):
        figure, axes = _new_figure()
        for entry_id, points in scatters:
            axes.scatter(points[:, 0], points[:, 1], s=8, alpha=0.5, label=entry_id)
        axes.set(
            title=f"{_SCATTER_TASK}/{dataset}",
            xlabel="latent distance",
            ylabel="edit distance of decoded text",
        )
        axes.legend(fontsize="small")
        parts.append(_image(figure, f"Smoothness on {dataset}"))
    return "\n".join(parts)


def _interpolation_section(board: Leaderboard) -> str:
    parts = ["<h2>Interpolations</h2>"]
    for entry_id, result in _results_of(board):
        if "interpolations" not in result.extra:
            continue
        parts.append(f"<h3>{_e(entry_id)} &middot; {_e(result.key)}</h3>")
        for path in _interpolations(entry_id, result):
            ends = f": {_e(path.get('source') or '')} &rarr; {_e(path.get('target') or '')}" if path.get("source") else ""
            items = "".join(f"<li>{_e(sentence)}</li>" for sentence in path["sentences"])
            parts.append(f"<p>{_e(str(path.get('kind', '')))}{ends}</p><ol>{items}</ol>")
    if len(parts) == 1:
        parts.append(_note("No interpolations on this board."))
    return "\n".join(parts)


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(6.4, 4.0))
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _image(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{encoded}">'


# Readers of the task-specific ``extra`` shapes; a malformed one is an error
# naming the entry and task rather than a plot that silently lies.


def _curve(entry_id: str, result: TaskResult) -> np.ndarray:
    """``extra["curve"]`` as an ``(n, 2)`` array of (x, y) sorted by x."""
    curve = result.extra["curve"]
    try:
        points = np.array([(float(x), float(y)) for x, y in curve.items()], dtype=float)
    except (AttributeError, TypeError, ValueError):
        raise _malformed(entry_id, result, "curve", "a mapping from numbers to numbers") from None
    if points.size == 0:
        raise _malformed(entry_id, result, "curve", "a non-empty mapping")
    return points[np.argsort(points[:, 0])]


def _scatter(entry_id: str, result: TaskResult) -> np.ndarray:
    """``extra["scatter"]`` as an ``(n, 2)`` array of (distance, edit distance)."""
    try:
        points = np.asarray(result.extra["scatter"], dtype=float)
    except (TypeError, ValueError):
        points = None
    if points is None or points.ndim != 2 or points.shape[1] != 2:
        raise _malformed(entry_id, result, "scatter", "a list of [distance, edit] pairs")
    return points


def _interpolations(entry_id: str, result: TaskResult) -> list[dict]:
    """``extra["interpolations"]`` as the interpolation task writes it: a list of paths, each
    ``{"kind": "prior" | "posterior", "source": str | None, "target": str | None, "sentences": [str, ...]}``."""
    paths = result.extra["interpolations"]
    if not isinstance(paths, list) or not all(
        isinstance(path, dict) and isinstance(path.get("sentences"), list)
        and all(isinstance(text, str) for text in path["sentences"])
        for path in paths
    ):
        raise _malformed(entry_id, result, "interpolations",
                         'a list of {"kind", "source", "target", "sentences": [str, ...]} paths')
    return paths


def _malformed(entry_id: str, result: TaskResult, name: str, expected: str) -> LeaderboardError:
    return LeaderboardError(
        f"entry {entry_id!r}, {result.key}: extra[{name!r}] must be {expected}"
    )
