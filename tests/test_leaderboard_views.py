"""show, compare and render take each score's direction, label and plot from the records, not from tasks/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from leaderboard.compare import compare_entries, format_comparison
from leaderboard.render import render_html
from leaderboard.schema import Entry, Leaderboard, TaskResult
from leaderboard.store import add_result, load
from leaderboard.table import column_directions, format_table, show_table
from probe.cli import app

REPO = Path(__file__).resolve().parents[1]


def entry(entry_id: str) -> Entry:
    return Entry(entry_id=entry_id, encoder_source=f"runs/{entry_id}", weights_sha256=entry_id[0].lower() * 64)


def result(task: str, score: float, *, name: str = "score", higher_is_better: bool | None = True,
           values: list[float] | None = None, dataset: str = "yelp", **metadata) -> TaskResult:
    if values is not None:
        score = float(np.mean(values))
    return TaskResult(task=task, dataset=dataset, split="test", main_score_name=name, main_score=score,
                      scores={name: score}, n_examples=len(values or []), seconds=1.0, per_example=values,
                      example_ids_hash="shared" if values is not None else None,
                      higher_is_better=higher_is_better, **metadata)


def board_of(rows: dict[str, list[TaskResult]]) -> Leaderboard:
    board = Leaderboard()
    for entry_id, results in rows.items():
        for task_result in results:
            board.add_result(entry(entry_id), task_result)
    return board


PPL = {"A": 100.0, "B": 80.0, "C": 120.0}  # perplexity: lower is better, so B is best


@pytest.fixture
def board() -> Leaderboard:
    return board_of({entry_id: [result("lm", ppl, name="ppl", higher_is_better=False, dataset="ptb"),
                                result("few-label", 0.9 - ppl / 1000),
                                result("interpolation", ppl / 10, name="distinct_per_path", higher_is_better=None)]
                     for entry_id, ppl in PPL.items()})


# ---- show ---------------------------------------------------------------------------------------------------


def test_show_sorts_best_first_by_the_recorded_direction(board):
    _, rows = show_table(board, sort_by="lm/ptb")
    assert [row[0] for row in rows] == ["B", "A", "C"]  # lowest perplexity first
    _, rows = show_table(board, sort_by="few-label/yelp")
    assert [row[0] for row in rows] == ["B", "A", "C"]  # highest accuracy first
    _, rows = show_table(board, sort_by="interpolation/yelp")
    assert [row[0] for row in rows] == ["C", "A", "B"]  # descriptive: highest first, as before
    _, rows = show_table(board, sort_by="lm/ptb", descending=True)  # an explicit order overrides
    assert [row[0] for row in rows] == ["C", "A", "B"]


def test_show_marks_each_column_with_its_direction(board):
    assert column_directions(board) == {"lm/ptb": False, "few-label/yelp": True, "interpolation/yelp": None}
    header = format_table(*show_table(board), column_directions(board)).splitlines()[0]
    assert header.split("  ") == ["entry", "few-label/yelp ↑", "interpolation/yelp", "lm/ptb ↓"]


def test_a_column_without_a_recorded_direction_is_unmarked_and_sorted_highest_first():
    # Results written before directions were recorded, or columns whose records disagree.
    board = board_of({"A": [result("old", 1.0, higher_is_better=None), result("mixed", 2.0)],
                      "B": [result("old", 3.0, higher_is_better=None), result("mixed", 1.0, higher_is_better=False)]})
    assert column_directions(board) == {"old/yelp": None, "mixed/yelp": None}
    assert [row[0] for row in show_table(board, sort_by="old/yelp")[1]] == ["B", "A"]


def test_show_command_follows_the_direction_and_says_it(tmp_path):
    path = tmp_path / "board.json"
    for entry_id, ppl in PPL.items():
        add_result(path, entry(entry_id), result("lm", ppl, name="ppl", higher_is_better=False, dataset="ptb"))
    runner = CliRunner()
    shown = runner.invoke(app, ["leaderboard", "show", "--leaderboard", str(path), "--sort", "lm/ptb"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split() == ["entry", "lm/ptb", "↓"]
    assert [line.split()[0] for line in lines[2:]] == ["B", "A", "C"]
    reversed_ = runner.invoke(app, ["leaderboard", "show", "--leaderboard", str(path), "--sort", "lm/ptb",
                                    "--descending"])
    assert [line.split()[0] for line in reversed_.output.splitlines()[2:]] == ["C", "A", "B"]
    helped = runner.invoke(app, ["leaderboard", "show", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert "following the task's direction" in " ".join(helped.output.split())


def test_show_command_loads_neither_torch_nor_tasks_nor_plotting(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, entry("A"), result("lm", 90.0, name="ppl", higher_is_better=False, dataset="ptb"))
    script = (
        "import sys\n"
        "from probe.cli import app\n"
        f"try:\n    app(['leaderboard', 'show', '--leaderboard', {str(path)!r}])\n"
        "except SystemExit as done:\n    assert done.code in (0, None), done.code\n"
        "heavy = ('torch', 'tasks', 'vae.train', 'matplotlib', 'scipy', 'sklearn')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy or m in heavy}))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert ran.stdout.splitlines()[0].startswith("entry")
    assert ran.stdout.splitlines()[-1] == "[]"


# ---- compare ------------------------------------------------------------------------------------------------


def paired(task: str, a: list[float], b: list[float], **kwargs) -> Leaderboard:
    return board_of({"A": [result(task, 0.0, values=a, **kwargs)], "B": [result(task, 0.0, values=b, **kwargs)]})


def test_compare_says_which_entry_is_better_when_lower_is_better():
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 1.0, 400)
    b = a - 0.5 + rng.normal(0.0, 0.2, 400)  # B's loss is lower: B is better
    board = paired("noisy-recon", a.tolist(), b.tolist(), name="mean_over_k", higher_is_better=False)
    (comparison,) = compare_entries(board, "A", "B")
    assert comparison.better == "B" and comparison.hi < 0
    assert comparison.verdict == "B better (interval excludes 0)"
    line = format_comparison(comparison)
    start = f"noisy-recon/yelp mean_over_k ↓: A {a.mean():.4f}  B {b.mean():.4f}  B−A {b.mean() - a.mean():+.4f} "
    assert line.startswith(start), line
    assert re.fullmatch(r"\[-0\.\d{4}, -0\.\d{4}\]  B better \(interval excludes 0\)  "
                        r"\(paired bootstrap over 400 shared examples\)", line[len(start):]), line


def test_compare_says_when_the_interval_includes_zero_and_when_a_is_better():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 300).astype(float).tolist()
    noisy_b = [1.0 - x if i % 7 == 0 else x for i, x in enumerate(a)]  # a few flips either way
    (close,) = compare_entries(paired("few-label", a, noisy_b, name="accuracy"), "A", "B")
    assert close.lo < 0 < close.hi
    assert close.verdict.endswith("ahead, not significant (interval includes 0)")
    worse_b = [0.0] * 300
    (clear,) = compare_entries(paired("few-label", a, worse_b, name="accuracy"), "A", "B")
    assert clear.better == "A" and clear.verdict == "A better (interval excludes 0)"


def test_compare_gives_only_the_difference_of_a_descriptive_score():
    board = paired("interpolation", [3.0, 4.0, 5.0], [6.0, 7.0, 8.0], name="distinct_per_path",
                   higher_is_better=None)
    (comparison,) = compare_entries(board, "A", "B")
    assert comparison.better is None and comparison.verdict == ""
    line = format_comparison(comparison)
    assert line.startswith("interpolation/yelp distinct_per_path: A 4.0000  B 7.0000  B−A +3.0000 ")
    assert "better" not in line and "ahead" not in line


def test_compare_command_names_the_entries_and_the_winner(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, entry("A"), result("lm", 0.0, name="ppl", higher_is_better=False, values=[90.0, 95.0, 100.0]))
    add_result(path, entry("B"), result("lm", 0.0, name="ppl", higher_is_better=False, values=[80.0, 85.0, 90.0]))
    compared = CliRunner().invoke(app, ["leaderboard", "compare", "A", "B", "--leaderboard", str(path)])
    assert compared.exit_code == 0, compared.output
    header, line = compared.output.splitlines()
    assert header == "A = A, B = B"
    assert line.startswith("lm/yelp ppl ↓: A 95.0000  B 85.0000  B−A -10.0000 ")
    assert "B better (interval excludes 0)" in line


# ---- render -------------------------------------------------------------------------------------------------


def image_alts(page: str) -> list[str]:
    return re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,', page)


def test_render_draws_what_each_result_asks_for_with_its_own_labels(tmp_path):
    path = tmp_path / "board.json"
    # A task the report has never heard of, asking for a label curve; labels and direction from its record.
    add_result(path, entry("A"), result("my-probe", 0.7, name="f1", main_score_label="macro F1",
                                        plot="label-curve", paper_ref="Table 99", extra={"curve": {"10": 0.5,
                                                                                               "100": 0.7}}))
    add_result(path, entry("A"), result("my-noise", 3.0, name="loss", higher_is_better=False,
                                        main_score_label="loss in nats", plot="k-curve",
                                        extra={"curve": {"1": 2.0, "2": 4.0}}))
    # A paper task whose record asks for no plot is not drawn, whatever its name and extra.
    add_result(path, entry("A"), result("few-label", 0.8, extra={"curve": {"10": 0.5, "100": 0.8}}))
    add_result(path, entry("A"), result("pairs", 0.4, name="pcc", main_score_label="Pearson r",
                                        plot="smoothness-scatter", extra={"scatter": [[0.1, 1], [0.5, 3]]}))
    page = render_html(load(path), tmp_path / "report.html").read_text()
    assert image_alts(page) == [
        "my-probe/yelp (Table 99): macro F1 ↑ against number of labelled examples",
        "my-noise/yelp: loss in nats ↓ against k (word swaps)",
        "pairs/yelp: Pearson r ↑; word edit distance of the input pair against latent L2 distance (÷ its median per encoder)",
    ]
    assert "<th>few-label/yelp ↑</th>" in page and "<th>my-noise/yelp ↓</th>" in page
    # The table says which of a curve's sizes its columns hold; few-label's record here asks for no curve.
    assert " my-noise/yelp, my-probe/yelp: one number for all the sizes a task measured" in page


def test_render_shows_interpolations_of_results_that_ask_for_them(tmp_path):
    path = tmp_path / "board.json"
    paths = [{"kind": "prior", "source": None, "target": None, "sentences": ["a b", "a c"]}]
    add_result(path, entry("A"), result("paths", 2.0, higher_is_better=None, plot="interpolations",
                                        extra={"interpolations": paths}))
    add_result(path, entry("B"), result("paths", 2.0, higher_is_better=None,
                                        extra={"interpolations": [{**paths[0], "sentences": ["not shown"]}]}))
    page = render_html(load(path), tmp_path / "report.html").read_text()
    assert "<li>a c</li>" in page and "not shown" not in page
    assert image_alts(page) == []
    # Numbered, with the two endpoints of the path (a prior pair's decoded ends) before its points.
    assert "<strong>Path 1</strong> (prior; decoded ends): <i>a b</i> &rarr; <i>a c</i>" in page


def test_render_scales_each_encoders_latent_distances_so_none_crushes_another(tmp_path, monkeypatch):
    import leaderboard.render as render

    path = tmp_path / "board.json"
    small, large = [[0.01, 1], [0.02, 3], [0.03, 6]], [[10.0, 1], [20.0, 3], [30.0, 6]]
    add_result(path, entry("A"), result("pairs", 0.9, plot="smoothness-scatter", extra={"scatter": small}))
    add_result(path, entry("B"), result("pairs", 0.9, plot="smoothness-scatter",
                                      extra={"scatter": large}))
    drawn = []
    real_scatter = render.Axes.scatter
    monkeypatch.setattr(render.Axes, "scatter", lambda self, x, y, **kw: drawn.append(list(x)) or
                        real_scatter(self, x, y, **kw))
    render_html(load(path), tmp_path / "report.html")
    assert drawn == [[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]]  # each divided by its own median (0.02 and 20)


def test_render_puts_each_legend_beside_its_axes_not_over_the_points(tmp_path, monkeypatch):
    import leaderboard.render as render

    path = tmp_path / "board.json"
    for name in ["A", "B", "C", "D", "E", "F", "0", "1"]:  # a table8 board has eight entries
        add_result(path, entry(name), result("curve", 0.5, plot="label-curve",
                                            extra={"curve": {"10": 0.5, "100": 0.6}}))
        add_result(path, entry(name), result("pairs", 0.5, plot="smoothness-scatter",
                                            extra={"scatter": [[0.1, 1], [0.5, 3]]}))
    legends = []
    real_legend = render._legend_beside
    monkeypatch.setattr(render, "_legend_beside", lambda axes: legends.append((axes, real_legend(axes))))
    render_html(load(path), tmp_path / "report.html")
    assert len(legends) == 2
    for axes, legend in legends:
        renderer = axes.figure.canvas.get_renderer()
        assert legend.get_window_extent(renderer).x0 > axes.get_window_extent(renderer).x1
        assert len(legend.get_texts()) == 8


def test_render_gives_each_score_its_interval_and_n_and_each_missing_one_its_reason(tmp_path):
    path = tmp_path / "board.json"
    values = [1.0] * 1125 + [0.0] * 375  # 0.75 over n = 1,500 examples
    add_result(path, entry("A"), result("few-label", 0.75, values=values, ci95=(0.7, 0.8)))
    add_result(path, entry("A"), TaskResult.not_applicable(task="recon-bleu", dataset="yelp", split="test",
                                                           main_score_name="bleu",
                                                           reason="recon-bleu decodes text: A has no decoder"))
    page = render_html(load(path), tmp_path / "report.html").read_text()
    assert "0.7500<br><small>[0.7000, 0.8000] n = 1,500</small>" in page
    assert "<small>recon-bleu decodes text: A has no decoder</small>" in page


def test_render_marks_quick_runs_and_shortened_training(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, entry("Full"), result("few-label", 0.8))
    add_result(path, entry("Data-capped"), result("few-label", 0.7, max_sentences=1500))
    shortened = Entry(entry_id="Trained", encoder_source="runs/t", weights_sha256="c" * 64,
                      training_config={"preset": {"name": "cpu", "max_epochs": 22}, "epochs": 1,
                                       "max_train_sentences": None})
    add_result(path, shortened, result("few-label", 0.6))
    board = load(path)
    assert board.entries["Data-capped"].results["few-label/yelp"].max_sentences == 1500  # kept in the file
    page = render_html(board, tmp_path / "report.html").read_text()
    assert "† quick run: first 1,500 sentences per split" in page
    assert "Trained<br><small>† trained with preset cpu, epochs 1</small>" in page
    assert "<td>Full</td>" in page and page.count("† quick run: first") == 1
