"""`probe reproduce`: the paper's numbers against its text, the row → method mapping, the report, and a tiny
end-to-end run that trains, scores, records on the leaderboard, and reuses or resumes its runs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probe.cli import app
from probe.paper_numbers import PAPER_CELLS, PaperCell
from probe.reproduce import (
    FIRST_SEED,
    TABLES,
    Column,
    ProgressLine,
    Row,
    RunReport,
    TableReport,
    build_cells,
    get_table,
    select_rows,
)
from probe_common.errors import ProbeError

PAPER_DIR = Path(__file__).resolve().parents[2] / "shared" / "paper"
PAPER_TEXT = PAPER_DIR / "000_3f869fd44f4e0b9f.txt"
runner = CliRunner()

# Where each table sits in the extracted text (first line containing start, up to end), and the position of each
# column among the tab-separated fields of a row's line (Tables 4 and 5 are printed side by side on one line).
# Table 2 has no caption in the text: it is the second block of Table 1's header, AE and VAE rows, then "+ pretrain".
TABLE2_START = ("Method\tPPL↓\tRecon↓\tAU↑\tKL\t-ELBO\nAE\t-\t70.36\t32\t-\t-\nVAE\t101.39\t101.27\t0\t0.00"
                "\t101.27\n+ pretrain\t")
SECTIONS = {
    ("Table 8", None): ("Table 8: Accuracy on Yelp", "of Yelp sentiment dataset"),
    ("Table 1", None): ("Table 1: Results on PTB", TABLE2_START),
    ("Table 2", None): (TABLE2_START, "have a strong probabilistic model"),
    ("Table 3", "PTB"): ("Table 3: Language modeling results", "\t\tYahoo"),
    ("Table 4", None): ("Table 4: Recons", "Smoothness of Latent Space A major"),
    ("Table 5", None): ("Table 4: Recons", "Smoothness of Latent Space A major"),
    ("Table 6", None): ("Table 6: Noisy reconstruction", "Table 7: Interpolation"),
    ("Table 10", "PTB"): ("Dataset\tMethod\tNLL↓", "\tLSTM-LM\t32.97"),
    ("Table 10", "SNLI"): ("\tLSTM-LM\t32.97", "Table 10: Additional results"),
}
# Table 10's first field is its Dataset column (mostly empty): the row label is the second.
LABEL_FIELD = {"Table 10": 1}
FIELD = {"Table 8": {c: i for i, c in enumerate(("0", "100", "500", "1k", "2k", "10k"), 1)},
         **{table: {c: i for i, c in enumerate(("PPL", "Recon", "AU", "KL", "-ELBO"), 1)}
            for table in ("Table 1", "Table 2", "Table 3")},
         "Table 4": {"BLEU": 1}, "Table 5": {"PCC": 3},
         "Table 6": {c: i for i, c in enumerate(("1", "2", "3", "4"), 1)},
         "Table 10": {c: i for i, c in enumerate(("NLL", "PPL", "Recon", "MI", "AU", "-ELBO", "ELBO PPL", "KL"), 2)}}


def normalised(line: str) -> str:
    """The PDF's LaTeX row labels as the paper shows them: "+ FBP ($\\lambda = 9$)" -> "+ FBP (λ = 9)"."""
    return line.replace("\\lambda", "λ").replace("$", "").strip(" ")


def section_lines(text: str, cell: PaperCell) -> list[str]:
    start, end = SECTIONS[(cell.table, cell.section)]
    body = text[text.index(start):]
    return [normalised(line) for line in body[:body.index(end)].splitlines()]


# ---- the paper's numbers ------------------------------------------------------------------------------------

def test_every_paper_number_is_printed_in_the_paper_at_its_row_and_column():
    if not PAPER_TEXT.is_file():
        pytest.skip(f"the paper's text is not at {PAPER_TEXT} (a checkout without ../shared/paper)")
    text = PAPER_TEXT.read_text(encoding="utf-8")
    assert {cell.table for cell in PAPER_CELLS} >= {"Table 8", "Table 1", "Table 2", "Table 3", "Table 10"}
    for cell in PAPER_CELLS:
        label_field = LABEL_FIELD.get(cell.table, 0)
        lines = [line for line in section_lines(text, cell) if line.split("\t")[label_field:][:1] == [cell.row]]
        if (cell.table, cell.section, cell.row) == ("Table 10", "PTB", "+ pretrained enc"):
            lines = lines[:1]  # printed twice; the second, under IWAE, has no method here
        assert len(lines) == 1, f"{cell.cite}: row label found on {len(lines)} lines of its table"
        fields = lines[0].split("\t")
        if cell.table == "Table 5":  # the second table of the shared line: its label sits before its value
            assert fields[2] == cell.row, cell.cite
        printed = fields[FIELD[cell.table][cell.column]].strip()
        if cell.pdf_text is not None:
            assert printed == cell.pdf_text, f"{cell.cite}: the PDF text shows {printed!r}"
        else:
            assert float(printed) == cell.value, f"{cell.cite}: the paper prints {printed}, the table holds {cell.value}"


def test_paper_cells_are_unique_and_cite_their_place():
    keys = [(cell.table, cell.section, cell.row, cell.column) for cell in PAPER_CELLS]
    assert len(keys) == len(set(keys))
    cell = next(c for c in PAPER_CELLS if c.table == "Table 8" and c.row == "Ours (λ = 6)" and c.column == "100")
    assert cell.value == 83.8 and cell.cite == "Table 8, row 'Ours (λ = 6)', column '100'"


# ---- tables, rows and their mapping to train-vae ------------------------------------------------------------

def test_every_row_trains_with_a_real_method_and_the_lam_its_label_says():
    from probe.builtin_encoders import BUILTIN_ENCODERS
    from vae.methods import get_method
    from vae.presets import DEFAULT_SEED, PAPER_LAM

    assert FIRST_SEED == DEFAULT_SEED  # the run of seed 1 is the authors' seed, as train-vae's default

    for spec in TABLES.values():
        assert len({row.key for row in spec.rows}) == len(spec.rows), spec.name
        for row in spec.rows:
            if row.builtin:  # a reference encoder: run-tasks --encoder NAME
                assert row.method in BUILTIN_ENCODERS and row.lam is None and "λ" not in row.label
                continue
            method = get_method(row.method)
            assert method.uses_lam == (row.lam is not None), (spec.name, row)
            in_label = re.search(r"λ = (\d+)", row.label)
            assert (float(in_label.group(1)) if in_label else None) == row.lam, (spec.name, row)
            if row.lam is not None and spec.dataset in PAPER_LAM[row.method] and row.key in ("fbp", "ours"):
                assert PAPER_LAM[row.method][spec.dataset] == row.lam, (spec.name, row)  # the table's one row
    table8 = {row.label: row.flags for row in TABLES["table8"].rows}
    assert table8["+ FBP (λ = 9)"] == "--method fbp --lam 9" and table8["Ours (λ = 6)"] == "--method pretrain-fb --lam 6"
    assert table8["AE"] == "--method ae" and table8["+ cyclic"] == "--method cyclic"
    assert table8["tfidf-svd (reference)"] == "run-tasks --encoder tfidf-svd (built-in, not trained)"


def test_every_paper_cell_belongs_to_a_row_and_column_of_a_table_and_every_row_has_numbers():
    places = {(column.paper_table or spec.paper_table, spec.section, row.label, column.label)
              for spec in TABLES.values() for row in spec.rows for column in spec.columns}
    for cell in PAPER_CELLS:
        assert (cell.table, cell.section, cell.row, cell.column) in places, cell.cite
    for spec in TABLES.values():
        tables = {column.paper_table or spec.paper_table for column in spec.columns}
        for row in spec.rows:
            assert row.builtin != any(c.table in tables and c.section == spec.section and c.row == row.label
                                      for c in PAPER_CELLS), (spec.name, row)
    # Tables 4-6 in one: every column finds the number of its own table.
    combined = {(cell.row, cell.column): cell.paper for cell in build_cells(TABLES["tables4-6"], TABLES["tables4-6"].rows,
                                                                            {(row.key, 1): {} for row in TABLES["tables4-6"].rows}, [1])}
    assert combined[("Ours (λ = 4)", "BLEU")] == 8.62 and combined[("Ours (λ = 4)", "PCC")] == 0.683
    assert combined[("AE", "4")] == 63.07 and get_table("table3-ptb") is TABLES["table3"]
    # Table 10's two blocks share their row labels: each table takes its own block's numbers.
    for name, nll in (("table10-ptb", 101.23), ("table10-snli", 33.09)):
        spec = TABLES[name]
        cells = {(cell.row, cell.column): cell for cell in build_cells(spec, spec.rows, {
            (row.key, 1): {} for row in spec.rows}, [1])}
        assert cells[("VAE", "NLL")].paper == nll and cells[("VAE", "NLL")].cite.startswith(f"Table 10 ({spec.section})")


def test_rows_are_chosen_by_key_or_prefix_in_the_papers_order():
    table3 = TABLES["table3"]
    assert [row.key for row in select_rows(table3, ["ours", "lm"])] == ["lm", "ours-lam8", "ours-lam6", "ours-lam4"]
    assert select_rows(table3, None) == table3.rows
    with pytest.raises(ProbeError, match="no such row; choose from lm, vae"):
        select_rows(table3, ["ours-lam5"])


def test_list_and_help_show_the_tables_and_the_row_mapping():
    listed = runner.invoke(app, ["reproduce", "--list"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"\n  fbp +\+ FBP \(λ = 9\) +--method fbp --lam 9\n", listed.output)
    assert all(f"{name}:" in listed.output for name in TABLES) and "[ptb] (also: table3-ptb)" in listed.output
    shown = runner.invoke(app, ["reproduce", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert all(name in shown.output for name in TABLES) and "--list" in shown.output
    missing = runner.invoke(app, ["reproduce"])
    assert missing.exit_code == 2 and "give a TABLE" in missing.output


# ---- cells and the report -----------------------------------------------------------------------------------

def test_cells_average_the_seeds_and_say_why_a_cell_is_missing():
    spec = TABLES["table3"]
    rows = select_rows(spec, ["lm", "ours-lam6"])
    ours = {"ppl": 90.0, "recon": 95.0, "au": 32, "kl": 8.0, "neg_elbo": 103.0}
    results = {("lm", 1): {None: {"status": "ok", "scores": {"ppl": 99.0}, "reason": None}},
               ("lm", 2): {None: {"status": "ok", "scores": {"ppl": 101.0}, "reason": None}},
               ("ours-lam6", 1): {None: {"status": "ok", "scores": ours, "reason": None}},
               ("ours-lam6", 2): {None: {"status": "ok", "scores": {**ours, "ppl": 94.0}, "reason": None}}}
    cells = {(c.row, c.column): c for c in build_cells(spec, rows, results, [1, 2])}
    ppl = cells[("LSTM-LM", "PPL")]
    assert (ppl.mean, round(ppl.std, 6), ppl.n, ppl.paper) == (100.0, round(2 ** 0.5, 6), 2, 100.47)
    half = 12.706204736 * 2 ** 0.5 / 2 ** 0.5  # t(0.975, 1) · std / √2
    assert ppl.ci95 == pytest.approx((100.0 - half, 100.0 + half)) and ppl.ci95_over == "t over 2 seeds"
    assert ppl.difference == pytest.approx(100.0 - 100.47) and ppl.score == "metrics.json ppl ↓"
    recon = cells[("LSTM-LM", "Recon")]
    assert recon.paper is None and recon.n == 0 and "no latent variable" in recon.not_applicable
    assert cells[("Ours (λ = 6)", "PPL")].mean == 92.0 and cells[("Ours (λ = 6)", "AU")].std == 0.0


def test_a_task_that_did_not_apply_gives_its_reason_and_accuracy_is_in_percent():
    column = Column("100", "100", "few-label", True, 100.0, 1)
    row = Row("AE", "ae", "ae")
    results = {("ae", 7): {"few-label": {"status": "not_applicable", "scores": {}, "reason": "no labels"}}}
    spec = TABLES["table8"]
    (cell,) = build_cells(dataclasses.replace(spec, columns=(column,), rows=(row,)), [row],
                          results, [7])
    assert cell.not_applicable == "no labels" and cell.paper == 78.4 and cell.difference is None
    ok = {("ae", 7): {"few-label": {"status": "ok", "scores": {"100": 0.75}, "reason": None}}}
    (cell,) = build_cells(dataclasses.replace(spec, columns=(column,), rows=(row,)), [row], ok, [7])
    assert cell.mean == 75.0 and cell.difference == pytest.approx(75.0 - 78.4)
    assert cell.ci95 is None and cell.interval_text() == "– (no interval recorded for this score)"
    draws = {("ae", 7): {"few-label": {"status": "ok", "scores": {"100": 0.75}, "reason": None, "n_examples": 1000,
                                       "per_seed": {"100": [0.7, 0.8, 0.75]}, "per_seed_unit": "label draws"}}}
    (cell,) = build_cells(dataclasses.replace(spec, columns=(column,), rows=(row,)), [row], draws, [7])
    half = 4.302652730 * 5.0 / 3 ** 0.5  # t(0.975, 2) · std (in %) / √3
    assert cell.ci95 == pytest.approx((75.0 - half, 75.0 + half)) and cell.ci95_over == "t over 3 label draws"
    assert cell.n_text() == "1 seed × 1,000 examples"


def test_progress_line_estimates_rows_that_train_apart_from_rows_that_are_only_scored():
    lines = []
    # Rows 1 and 2 are reused and scored, rows 3 and 4 train, row 5 is reused.
    progress = ProgressLine([False, False, True, True, False], lines.append)
    plan = type("Plan", (), {"row": Row("VAE", "vae", "vae"), "seed": 5})()
    progress.say(plan, "scoring")
    progress.finish(30.0)
    progress.finish(90.0)
    progress.say(plan, "training")  # a re-scored row says nothing about the time a row takes to train
    progress.finish(600.0)
    progress.say(plan, "training")
    progress.finish(1200.0)
    progress.say(plan, "scoring")
    assert lines == ["[1/5] VAE seed 5: scoring; table ETA unknown until a row has trained",
                     "[3/5] VAE seed 5: training; table ETA unknown until a row has trained",
                     "[4/5] VAE seed 5: training; table ETA 11m00s",  # 600 s to train, 60 s for the scored row
                     "[5/5] VAE seed 5: scoring; table ETA 1m00s"]
    nothing_to_train = ProgressLine([False, False], lines.append)
    nothing_to_train.say(plan, "scoring")
    assert lines[-1] == "[1/2] VAE seed 5: scoring; table ETA unknown until a row has been scored"


# ---- end to end ---------------------------------------------------------------------------------------------

QUICK = ["--preset", "tiny", "--epochs", "1", "--max-train-sentences", "400", "--device", "cpu", "--no-progress"]


def markdown_cells(markdown: str) -> dict[tuple[str, str], list[str]]:
    cells = {}
    for line in markdown.splitlines():
        fields = [field.strip() for field in line.strip().strip("|").split("|")]
        if len(fields) == 8 and fields[0] not in ("row", "---"):
            cells[(fields[0].removesuffix(" †"), fields[1])] = fields
    return cells


def test_tiny_table8_trains_scores_records_and_then_reuses_its_rows(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"  # the whole table, every row: the same command as the cpu and paper presets
    command = ["reproduce", "table8", "--out", str(out), "--data-dir", str(data_dir), "--max-sentences", "1500",
               *QUICK]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    assert "[1/8] AE seed 783435: training" in first.output and "table ETA" in first.output
    assert "[5/8] + aggressive seed 783435: training" in first.output
    assert f"from the autoencoder stage of {out / 'runs' / 'yelp-ae-seed783435'}" in first.output  # Ours
    report = json.loads((out / "table8.json").read_text(encoding="utf-8"))
    markdown = (out / "table8.md").read_text(encoding="utf-8")
    assert markdown in first.output  # the console shows the report
    keys = ["ae", "vae", "anneal", "cyclic", "aggressive", "fbp", "ours", "tfidf-svd"]
    assert [row["key"] for row in report["rows"]] == keys
    trained, builtin = report["runs"][:7], report["runs"][7]
    assert all(run["trained"] == "trained" and "preset tiny" in run["quick"] for run in trained)
    assert builtin["trained"] == "built-in" and builtin["quick"] == ["task max_sentences 1500"]
    assert "| tfidf-svd (reference) † | tfidf-svd | `run-tasks --encoder tfidf-svd (built-in, not trained)` |" in markdown
    assert f"`{out / 'runs' / 'yelp-ae-seed783435'}` (trained in fp32, quick: preset tiny" in markdown
    assert len(report["cells"]) == 8 * 6
    shown = markdown_cells(markdown)
    for cell in report["cells"]:
        fields = shown[(cell["row"], cell["column"])]
        if cell["row"] == "tfidf-svd (reference)":
            assert cell["paper"] is None and fields[5] == "– (not in the paper)"
        else:
            assert cell["paper"] is not None and fields[5] == f"{cell['paper']:.1f}"  # every Table 8 cell is printed
        if cell["n"]:
            difference = "" if cell["paper"] is None else f"{cell['difference']:+.2f}"
            best = max(c["mean"] for c in report["cells"] if c["column"] == cell["column"] and c["n"])
            ours_text = f"{cell['mean']:.2f}"  # the column's best mean is marked
            assert fields[3] == (f"**{ours_text}** (best)" if cell["mean"] == best else ours_text)
            assert fields[6] == difference
            low, high = cell["ci95"]  # one seed: few-label over its label draws, gmm-cluster over its fits
            assert low <= cell["mean"] <= high and fields[4] == f"[{low:.2f}, {high:.2f}] ({cell['ci95_over']})"
            assert cell["ci95_over"] == ("t over 5 label draws" if cell["column"] != "0" else "t over 5 GMM fits")
        else:  # 1,500 train sentences: too few for the 2k and 10k label sizes
            assert cell["column"] in ("2k", "10k") and fields[3].startswith("n/a: few-label gave no")
        assert fields[2].endswith("↑ (×100)") and fields[7].startswith(f"{cell['n']} seed")
    assert "† trained or scored with a quick option" in markdown

    page = (out / "table8.html").read_text(encoding="utf-8")  # the table as the paper lays it out, then the board
    assert "<th>100<br><small>few-label 100 ↑ (×100)</small></th>" in page and "<h2>Scores</h2>" in page
    ours = {(c["row"], c["column"]): c for c in report["cells"]}[("Ours (λ = 6)", "100")]
    low, high = ours["ci95"]
    best = ours["mean"] == max(c["mean"] for c in report["cells"] if c["column"] == "100")
    mark = ("num best", " (best)") if best else ("num", "")
    assert (f'<td class="{mark[0]}"><strong>{ours["mean"]:.2f}{mark[1]}</strong><br><small>[{low:.2f}, {high:.2f}] '
            f'(t over 5 label draws)</small><br><small>n = 1 seed × ') in page
    assert f"paper: 83.8 ({ours['difference']:+.2f})" in page and "Ours (λ = 6) †" in page
    assert "paper: –" in page  # the reference row has no paper number
    assert "† quick run: first 1,500 sentences per split" in page  # the board's cells of quick scoring

    from leaderboard.store import load

    board = load(out / "leaderboard.json")
    assert set(board.entries) == {f"table8/{key}/seed783435" for key in keys}
    ours = board.entries["table8/ours/seed783435"]
    cells = {(c["row"], c["column"]): c for c in report["cells"]}
    assert ours.results["few-label/yelp"].scores["100"] * 100 == pytest.approx(cells[("Ours (λ = 6)", "100")]["mean"])
    assert board.entries["table8/ae/seed783435"].results["gmm-cluster/yelp"].scores["accuracy"] * 100 == \
        pytest.approx(cells[("AE", "0")]["mean"])

    # Again: every row is finished and scored, so nothing trains and no task runs.
    import probe.runner
    import vae.train

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished row was trained or scored again")

    monkeypatch.setattr(vae.train, "train_vae", must_not_run)
    monkeypatch.setattr(probe.runner, "run_tasks", must_not_run)
    second = runner.invoke(app, command)
    assert second.exit_code == 0, second.output
    assert second.output.count("reused") >= 2 * 7  # each trained row: its run, then its scores
    again = json.loads((out / "table8.json").read_text(encoding="utf-8"))
    assert [run["trained"] for run in again["runs"]] == ["reused"] * 7 + ["built-in"]
    assert again["cells"] == report["cells"]

    other = runner.invoke(app, [*command[:-len(QUICK)], *QUICK[:2], "--epochs", "2", *QUICK[4:]])
    assert other.exit_code == 2 and "was trained with other options: epochs 1 (asked: 2)" in other.output
    in_bf16 = runner.invoke(app, [*command, "--precision", "bf16"])
    assert in_bf16.exit_code == 2
    assert "was trained with other options: precision 'fp32' (asked: 'bf16')" in in_bf16.output

    from vae import presets  # a preset redefined since the runs finished: they are not reused silently

    monkeypatch.setitem(presets.PRESETS, "tiny", dataclasses.replace(presets.PRESETS["tiny"], lr=0.25))
    redefined = runner.invoke(app, command)
    assert redefined.exit_code == 2 and "was trained with other options: preset tiny's lr 0.5 → 0.25" in redefined.output


def test_an_interrupted_row_resumes_from_its_checkpoint(data_dir, tmp_path, monkeypatch):
    import vae.train

    out = tmp_path / "out"
    command = ["reproduce", "table3", "--rows", "lm", "--out", str(out), "--data-dir", str(data_dir), *QUICK]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(vae.train, "export_run", interrupted)  # after training and metrics.json, before the export
        first = runner.invoke(app, command)
    assert first.exit_code == 130, first.output
    run_dir = out / "runs" / "ptb-lm-seed783435"
    assert (run_dir / "checkpoints" / "last.pt").is_file() and not (run_dir / "model.safetensors").exists()
    second = runner.invoke(app, command)
    assert second.exit_code == 0, second.output
    assert "[1/1] LSTM-LM seed 783435: resuming" in second.output
    assert "has finished training: its final weights are evaluated again" in second.output
    report = json.loads((out / "table3.json").read_text(encoding="utf-8"))
    assert report["runs"][0]["trained"] == "resumed"
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    ppl = next(c for c in report["cells"] if c["column"] == "PPL")
    assert ppl["n"] == 1 and ppl["paper"] == 100.47 and ppl["mean"] == metrics["ppl"]
    # The table's numbers are on the leaderboard too, as the run's lm result; the tiny preset's capped test split
    # marks it as a quick run.
    from leaderboard.store import load

    result = load(out / "leaderboard.json").entries["table3/lm/seed783435"].results["lm/ptb"]
    assert (result.main_score_name, result.main_score, result.scores["nll"]) == ("ppl", metrics["ppl"], metrics["nll"])
    assert result.n_examples == metrics["n_sentences"] == result.max_sentences == 300 and not result.higher_is_better
    assert "lm/ptb: ppl ↓" in second.output and "table3/lm/seed783435" in (out / "table3.html").read_text("utf-8")


def test_rows_that_start_with_an_autoencoder_share_its_stage_unless_another_version_trained_it(data_dir, tmp_path):
    import shutil

    from vae.autoencoder_stage import SNAPSHOT_KEY
    from vae.metrics import without_timing

    out = tmp_path / "out"

    def command(rows: str) -> list[str]:
        return ["reproduce", "table3", "--rows", rows, "--out", str(out), "--data-dir", str(data_dir), *QUICK]

    assert runner.invoke(app, command("ours-lam8")).exit_code == 0
    first = runner.invoke(app, command("ours-lam6"))  # another invocation finds the stage of the run before
    assert first.exit_code == 0, first.output
    lam8, lam6 = (out / "runs" / f"ptb-pretrain-fb-lam{lam}-seed783435" for lam in (8, 6))
    assert f"[1/1] Ours (λ = 6) seed 783435: training {lam6}" in first.output
    assert f"from the autoencoder stage of {lam8}" in first.output
    assert json.loads((lam6 / "train_config.json").read_text())["autoencoder_stage_from"] == str(lam8)
    shared = json.loads((lam6 / "metrics.json").read_text())

    # A donor stage recorded by another torch: the row trains its own, says why, and gets the same numbers here.
    key = json.loads((lam8 / SNAPSHOT_KEY).read_text())
    (lam8 / SNAPSHOT_KEY).write_text(json.dumps(key | {"torch_version": "0.0.0"}))
    shutil.rmtree(lam6)
    second = runner.invoke(app, command("ours-lam6"))
    assert second.exit_code == 0, second.output
    assert (f"Ours (λ = 6) seed 783435 trains its own autoencoder stage: --autoencoder-stage-from {lam8}: its "
            f"autoencoder stage was trained with other settings (torch_version '0.0.0' → ") in second.output
    assert json.loads((lam6 / "train_config.json").read_text())["autoencoder_stage_from"] is None
    assert without_timing(json.loads((lam6 / "metrics.json").read_text())) == without_timing(shared)


def test_several_seeds_give_each_cell_the_mean_and_std_of_the_seeds_runs(data_dir, tmp_path):
    out = tmp_path / "out"
    command = ["reproduce", "table3", "--rows", "lm", "--seeds", "2", "--out", str(out), "--data-dir", str(data_dir),
               *QUICK]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "[1/2] LSTM-LM seed 783435" in result.output and "[2/2] LSTM-LM seed 783436" in result.output
    ppls = [json.loads((out / "runs" / f"ptb-lm-seed{seed}" / "metrics.json").read_text(encoding="utf-8"))["ppl"]
            for seed in (783435, 783436)]
    assert ppls[0] != ppls[1]  # each seed trained its own model
    report = json.loads((out / "table3.json").read_text(encoding="utf-8"))
    cell = next(c for c in report["cells"] if c["column"] == "PPL")
    mean, std = sum(ppls) / 2, abs(ppls[0] - ppls[1]) / 2 ** 0.5  # the sample std of two values
    assert cell["values"] == ppls and cell["n"] == 2 and cell["mean"] == pytest.approx(mean)
    assert cell["std"] == pytest.approx(std) and cell["ci95_over"] == "t over 2 seeds"
    half_width = 12.706 * std / 2 ** 0.5  # t(0.975, 1 degree of freedom) × standard error
    assert cell["ci95"] == pytest.approx([mean - half_width, mean + half_width], rel=1e-4)
    fields = markdown_cells((out / "table3.md").read_text(encoding="utf-8"))[("LSTM-LM", "PPL")]
    assert fields[3].replace("**", "").startswith(f"{mean:.3f} ± {std:.3f}") and fields[7] == "2 seeds × 300 examples"
    assert f"{mean:.3f} ± {std:.3f}" in (out / "table3.html").read_text(encoding="utf-8")
    from leaderboard.store import load

    board = load(out / "leaderboard.json")
    assert [board.entries[f"table3/lm/seed{seed}"].results["lm/ptb"].main_score for seed in (783435, 783436)] == ppls


def test_tables4_6_train_the_snli_rows_once_and_set_each_column_beside_its_own_table(data_dir, tmp_path,
                                                                                      monkeypatch):
    out = tmp_path / "out"
    command = ["reproduce", "tables4-6", "--rows", "ae", "--out", str(out), "--data-dir", str(data_dir),
               "--max-sentences", "300", *QUICK]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "tables4-6.json").read_text(encoding="utf-8"))
    cells = {cell["column"]: cell for cell in report["cells"]}
    # AE's numbers in Tables 4, 5 and 6 (recon BLEU, PCC, noisy reconstruction for 1-4 swaps).
    assert {column: cell["paper"] for column, cell in cells.items()} == {
        "BLEU": 60.80, "PCC": 0.620, "1": 26.05, "2": 40.46, "3": 52.77, "4": 63.07}
    assert cells["BLEU"]["cite"].startswith("Table 4,") and cells["4"]["cite"].startswith("Table 6,")
    assert all(cell["n"] == 1 and cell["difference"] == cell["mean"] - cell["paper"] for cell in cells.values())
    for k in "1234":  # Table 6's columns: each its own bootstrap over the test sentences, not only their mean
        low, high = cells[k]["ci95"]
        assert low < cells[k]["mean"] < high and cells[k]["ci95_over"] == "bootstrap over 300 examples"
    assert cells["PCC"]["ci95_over"] == "bootstrap over 100,000 pairs and their test sentences"
    assert "# Tables 4–6: Reconstruction BLEU, smoothness" in (out / "tables4-6.md").read_text(encoding="utf-8")

    # Scores recorded before smoothness' interval changed (no "revisions") are scored again; current ones are not.
    import probe.runner

    scored = []
    real_run_tasks = probe.runner.run_tasks

    def counted_run_tasks(*args, **kwargs):
        scored.append(1)
        return real_run_tasks(*args, **kwargs)

    monkeypatch.setattr(probe.runner, "run_tasks", counted_run_tasks)
    assert runner.invoke(app, command).exit_code == 0 and scored == []
    record_path = out / "scores" / "tables4-6" / "ae-seed783435.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["settings"].pop("revisions") == {"smoothness": 2}
    record_path.write_text(json.dumps(record), encoding="utf-8")
    assert runner.invoke(app, command).exit_code == 0 and scored == [1]


def test_each_column_marks_its_best_mean_in_the_scores_direction():
    spec = TABLES["table3"]
    rows = select_rows(spec, ["lm", "vae", "ours-lam6"])
    ours = {"ppl": 90.0, "recon": 95.0, "au": 32, "kl": 8.0, "neg_elbo": 103.0}
    results = {("lm", 1): {None: {"status": "ok", "scores": {"ppl": 99.0}, "reason": None}},
               ("vae", 1): {None: {"status": "ok", "scores": {**ours, "ppl": 95.0, "recon": 95.0, "au": 0,
                                                                "kl": 0.0, "neg_elbo": 101.0}, "reason": None}},
               ("ours-lam6", 1): {None: {"status": "ok", "scores": ours, "reason": None}}}
    runs = tuple(RunReport(row.label, row.key, row.method, row.lam, 1, f"runs/{row.key}", "trained") for row in rows)
    report = TableReport(spec, "tiny", (1,), runs, build_cells(spec, rows, results, [1]))
    # PPL, Recon and -ELBO: lower is better, and Recon ties at 95.0, so both rows are best there; AU: higher is
    # better (LSTM-LM has none); KL has no direction.
    assert report.best_cells() == {("Ours (λ = 6)", "PPL"), ("VAE", "-ELBO"), ("VAE", "Recon"),
                                   ("Ours (λ = 6)", "Recon"), ("Ours (λ = 6)", "AU")}
    assert ["VAE", "-ELBO"] in report.to_json()["best"] and len(report.to_json()["best"]) == 5
    markdown = report.markdown()
    assert "| Ours (λ = 6) | PPL | metrics.json ppl ↓ | **90.000** (best) |" in markdown
    assert "| LSTM-LM | PPL | metrics.json ppl ↓ | 99.000 |" in markdown
    html = report.html_table()
    assert html.count('class="num best"') == 5 and "90.000 (best)" in html and "99.000 (best)" not in html
