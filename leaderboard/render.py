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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from probe_common.atomic import write_text
from probe_common.quick_runs import shortened_training
from leaderboard.direction import arrow, shared_direction
from leaderboard.errors import LeaderboardError
from leaderboard.examples import with_examples
from leaderboard.schema import Leaderboard, TaskResult, utc_now
from leaderboard.table import column_directions, column_header, format_cell, show_table


@dataclass(frozen=True)
class _PlotKind:
    """How the page draws one kind of plot; a result asks for one in its ``plot`` field (the task's metadata).

    The kind fixes the section and the x axis (what ``extra`` holds); the y axis of a curve is the result's
    own ``main_score_label``, so no task name is known here.
    """

    section: str
    extra_key: str  # the field of ``extra`` the plot reads
    x_label: str = ""
    log_x: bool = False


# Each curve of a plot gets its own hollow marker, so a curve lying on another (two collapsed rows at the majority
# class) still shows.
_CURVE_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
# Table 5's smoothness: the word edit distance of an input pair (y) against the L2 distance of its codes (x).
# Codes of different encoders live on different scales, so each encoder's distances are divided by their median.
_SCATTER_X, _SCATTER_Y = "latent L2 distance (÷ its median per encoder)", "word edit distance of the input pair"
# A task measured at several sizes (numbers of labels, of word swaps) has one number in the table.
_CURVE_COLUMNS_NOTE = (" {}: one number for all the sizes a task measured (few-label: with the most labels run; "
                       "noisy-recon: the mean over k); the curves below give each size.")

# The plot kinds the page draws, by the name a result gives in its `plot` field (tasks.base.PLOT_KINDS).
PLOT_KINDS = {
    "label-curve": _PlotKind("Scores against the number of labels", "curve", "number of labelled examples", True),
    "k-curve": _PlotKind("Scores against input noise", "curve", "k (word swaps)"),
    "smoothness-scatter": _PlotKind("Code distance against edit distance", "scatter"),
    "interpolations": _PlotKind("Interpolations", "interpolations"),
}


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { background: #e6f2e0; }
p.note { color: #777; font-style: italic; }
img { max-width: 100%; }
"""


def render_html(board: Leaderboard, out_path: str | os.PathLike, title: str = "Leaderboard",
                preamble_html: str = "") -> Path:
    """Write the leaderboard page to ``out_path`` atomically and return the path.

    The table marks each column's direction. Each successful result is drawn
    as its ``plot`` field says (label curve, k curve, smoothness scatter,
    interpolation text), from its ``extra``; results without one are in the
    table only. A kind of plot without data is replaced by a note.
    ``preamble_html`` (trusted HTML, escaped by its maker) comes before the scores.
    """
    plotted = _results_by_plot(board)
    sections = [preamble_html] if preamble_html else []
    curve_columns = sorted(key for kind_name, kind in PLOT_KINDS.items() if kind.extra_key == "curve"
                           for key in plotted.get(kind_name, {}))
    sections.append(_table_section(board, curve_columns))
    for kind_name, kind in PLOT_KINDS.items():
        groups = plotted.get(kind_name, {})
        if kind.extra_key == "curve":
            sections.append(_curve_section(kind, groups))
        elif kind.extra_key == "scatter":
            sections.append(_scatter_section(kind, groups))
        else:
            sections.append(_interpolation_section(kind, groups))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n<p class=\"note\">Generated {_e(utc_now())}.</p>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_text(out_path, page)
    return out_path


def escape(text: object) -> str:
    return html.escape(str(text))


_e = escape


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _table_section(board: Leaderboard, curve_columns: list[str]) -> str:
    """The scores table; its note names `curve_columns`, whose curves the page draws below."""
    columns, rows = show_table(board)
    if not rows:
        return "<h2>Scores</h2>\n" + _note("No results yet.")
    directions = column_directions(board)
    header = "".join(f"<th>{_e(column_header(column, directions))}</th>" for column in columns)
    body = []
    for entry_id, *cells in rows:
        entry = board.entries[entry_id]
        scores = "".join(_score_cell(cell, entry.results.get(column)) for column, cell in zip(columns[1:], cells))
        trained = _quick_training(entry.training_config)
        below = f"<br><small>† {_e(trained)}</small>" if trained else ""
        body.append(f"<tr><td>{_e(entry_id)}{below}</td>{scores}</tr>")
    legend = ("↑ higher is better, ↓ lower is better; unmarked: descriptive or unknown. "
              "Under each score: its 95% interval and n, the number of examples it was measured on. "
              "† a quick run: trained with a shorter preset or options, or scored on the first N sentences "
              "of each split; not comparable with a full run.")
    if curve_columns:
        legend += _CURVE_COLUMNS_NOTE.format(", ".join(curve_columns))
    return (
        "<h2>Scores</h2>\n<table>\n"
        f"<thead><tr>{header}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n" + _note(legend)
    )


def _score_cell(cell, result: TaskResult | None) -> str:
    """The main score, and below it the 95% interval and n; a not-applicable result gives its reason."""
    if result is not None and result.status != "ok":
        return f"<td>{_e(format_cell(cell))}<br><small>{_e(result.reason or '')}</small></td>"
    details = []
    if result is not None and result.ci95 is not None:
        details.append(f"[{result.ci95[0]:.4f}, {result.ci95[1]:.4f}]")
    if result is not None and result.n_examples:
        details.append(f"n = {result.n_examples:,}")
    if result is not None and result.max_sentences is not None:
        details.append(f"† quick run: first {result.max_sentences:,} sentences per split")
    below = f'<br><small>{_e(" ".join(details))}</small>' if details else ""
    return f'<td class="num">{_e(format_cell(cell))}{below}</td>'


def _quick_training(training_config: dict) -> str:
    marks = shortened_training(training_config)
    return "trained with " + ", ".join(marks) if marks else ""


# kind -> "{task}/{dataset}" -> [(entry_id, result)], for the successful results that ask for a plot.
_PlotGroups = dict[str, list[tuple[str, TaskResult]]]


def _results_by_plot(board: Leaderboard) -> dict[str, _PlotGroups]:
    plotted: dict[str, _PlotGroups] = defaultdict(lambda: defaultdict(list))
    for entry_id, entry in sorted(board.entries.items()):
        for key, result in sorted(entry.results.items()):
            kind = result.plot  # None: older records, and tasks drawn in the table only
            if result.status != "ok" or kind not in PLOT_KINDS:
                continue
            result = with_examples(board.path, result)  # extra lives in the result's per-example file
            if PLOT_KINDS[kind].extra_key in result.extra:
                plotted[kind][key].append((entry_id, result))
    return plotted


def _y_label(results: list[tuple[str, TaskResult]]) -> str:
    """The group's main score as its records describe it, with its direction."""
    _, first = results[0]
    label = getattr(first, "main_score_label", None) or first.main_score_name
    return f"{label} {arrow(shared_direction(result for _, result in results))}".rstrip()


def _caption(key: str, results: list[tuple[str, TaskResult]]) -> str:
    paper_ref = getattr(results[0][1], "paper_ref", None)
    return f"{key} ({paper_ref})" if paper_ref else key


def _curve_section(kind: _PlotKind, groups: _PlotGroups) -> str:
    parts = [f"<h2>{_e(kind.section)}</h2>"]
    if not groups:
        parts.append(_note(f"No {kind.section.lower()} on this board."))
    for key, results in sorted(groups.items()):
        figure, axes = _new_figure()
        for number, (entry_id, result) in enumerate(results):
            points = _curve(entry_id, result)
            axes.plot(points[:, 0], points[:, 1], marker=_CURVE_MARKERS[number % len(_CURVE_MARKERS)],
                      fillstyle="none", label=entry_id)
        if kind.log_x:
            axes.set_xscale("log")
        y_label = _y_label(results)
        axes.set(title=_caption(key, results), xlabel=kind.x_label, ylabel=y_label)
        _legend_beside(axes)
        parts.append(_image(figure, f"{_caption(key, results)}: {y_label} against {kind.x_label}"))
    return "\n".join(parts)


def _scatter_section(kind: _PlotKind, groups: _PlotGroups) -> str:
    parts = [f"<h2>{_e(kind.section)}</h2>"]
    if not groups:
        parts.append(_note(f"No {kind.section.lower()} on this board."))
    for key, results in sorted(groups.items()):
        figure, axes = _new_figure()
        for entry_id, result in results:
            points = _scatter(entry_id, result)
            axes.scatter(_scaled_by_median(points[:, 0]), points[:, 1], s=8, alpha=0.5,
                         label=f"{entry_id} ({result.main_score:.3f})")
        # The axes are the pairs' two distances; the title names the main score, the legend gives its values.
        title = f"{_caption(key, results)}: {_y_label(results)}"
        axes.set(title=title, xlabel=_SCATTER_X, ylabel=_SCATTER_Y)
        _legend_beside(axes)
        parts.append(_image(figure, f"{title}; {_SCATTER_Y} against {_SCATTER_X}"))
    return "\n".join(parts)


def _interpolation_section(kind: _PlotKind, groups: _PlotGroups) -> str:
    parts = [f"<h2>{_e(kind.section)}</h2>"]
    for key, results in sorted(groups.items()):
        for entry_id, result in results:
            parts.append(f"<h3>{_e(entry_id)} &middot; {_e(key)}</h3>")
            for number, path in enumerate(_interpolations(entry_id, result), start=1):
                parts.append(_interpolation_path(number, path))
    if len(parts) == 1:
        parts.append(_note("No interpolations on this board."))
    return "\n".join(parts)


def _interpolation_path(number: int, path: dict) -> str:
    """Path n: its two endpoints (the input sentences of a posterior pair; the decoded ends of a prior pair),
    then the decoded sentence at each point, t = 0 first."""
    sentences = path["sentences"]
    start = path.get("source") or (sentences[0] if sentences else "")
    end = path.get("target") or (sentences[-1] if sentences else "")
    ends = "inputs" if path.get("source") else "decoded ends"
    items = "".join(f"<li>{_e(sentence)}</li>" for sentence in sentences)
    return (f"<p><strong>Path {number}</strong> ({_e(str(path.get('kind', '')))}; {ends}): "
            f"<i>{_e(start)}</i> &rarr; <i>{_e(end)}</i></p><ol start=\"0\">{items}</ol>")


def _scaled_by_median(distances: np.ndarray) -> np.ndarray:
    median = float(np.median(distances))
    return distances / median if median > 0 else distances


def _legend_beside(axes: Axes) -> Legend:
    """The legend to the right of the axes: inside, a board's eight entries covered the middle of the curves."""
    return axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


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
