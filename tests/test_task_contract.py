"""The task contract: tasks declare metadata and return plain numbers; the runner times them and builds records;
options are values given by name."""

from __future__ import annotations

import ast
import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from typer.testing import CliRunner

from leaderboard.render import PLOT_KINDS as DRAWN_PLOTS
from leaderboard.schema import Plot, TaskResult
from probe.cli import app
from probe.runner import build_record, run_one, run_tasks
from tasks.base import (PLOT_KINDS, DecodingTask, NotApplicable, RepresentationTask, ScoringTask, TaskData,
                        TaskInfo, TaskOutput)
from tasks.gmm_cluster import GMMCluster
from tasks.registry import TASKS, get_task
from vae.data.corpus import Corpus
from probe_common.errors import ProbeError

from helpers import CodesEncoder

TASKS_DIR = Path(__file__).resolve().parents[1] / "tasks"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


# ---- tasks hold no leaderboard code ------------------------------------------------------------------------


def test_no_task_module_imports_the_leaderboard():
    offenders = {path.name: sorted(m for m in imported_modules(path) if m.split(".")[0] == "leaderboard")
                 for path in sorted(TASKS_DIR.glob("*.py"))}
    assert {name: modules for name, modules in offenders.items() if modules} == {}


def test_no_task_times_itself():
    # The runner is the one clock: a task's run is timed once, encoding included.
    timing = {path.name for path in TASKS_DIR.glob("*.py") if "time" in imported_modules(path)}
    assert timing == set()
    assert "seconds" not in {f.name for f in dataclasses.fields(TaskOutput)}


# ---- declared metadata ------------------------------------------------------------------------------------

# What each registered task declares: its direction and plot (None: descriptive, or table only).
EXPECTED = {
    "gmm-cluster": (True, None), "few-label": (True, "label-curve"), "smoothness": (True, "smoothness-scatter"),
    "recon-bleu": (True, None), "noisy-recon": (False, "k-curve"), "interpolation": (None, "interpolations"),
    "lm": (False, None), "gmm-cluster-one2one": (True, None), "few-label-finetune": (True, "label-curve"),
}


def test_every_registered_task_declares_direction_label_plot_and_where_the_paper_defines_it():
    assert set(TASKS) == set(EXPECTED)
    for name, (higher_is_better, plot) in EXPECTED.items():
        info = get_task(name).info
        assert info.name == name
        assert (info.higher_is_better, info.plot) == (higher_is_better, plot), name
        assert info.main_score_label.strip() and info.paper_ref.strip() and info.split == "test"


def test_task_types_match_what_the_tasks_declare():
    for name in TASKS:
        task = get_task(name)
        kind = (ScoringTask if task.info.needs_lm_scorer else DecodingTask if task.info.needs_decoder
                else RepresentationTask)
        assert isinstance(task, kind), name


def test_the_plot_kinds_are_the_same_in_tasks_schema_and_report():
    assert set(PLOT_KINDS) == set(typing.get_args(Plot)) == set(DRAWN_PLOTS)
    with pytest.raises(ValueError, match="plot must be one of"):
        TaskInfo(name="x", paper_ref="-", default_dataset="yelp", split="test", main_score="s",
                 higher_is_better=True, main_score_label="s", plot="bar-chart")


# ---- options are values -----------------------------------------------------------------------------------


def test_get_task_makes_a_task_from_options_given_as_values():
    lm = get_task("lm", iw_samples=100)
    assert lm.iw_samples == 100 and get_task("lm").iw_samples == 1000  # a new task each time
    one2one = get_task("gmm-cluster", one2one=True)
    assert one2one.one2one and one2one.info.name == "gmm-cluster-one2one"
    assert get_task("gmm-cluster-one2one").info.name == "gmm-cluster-one2one"


def test_an_unknown_task_option_is_a_one_line_error():
    with pytest.raises(ProbeError) as error:
        get_task("lm", iw_sample=100)
    assert str(error.value) == "task lm has no option 'iw_sample'; its options: iw_samples, max_sentences"
    with pytest.raises(ProbeError, match="^task gmm-cluster-one2one has no option 'one2one'"):
        get_task("gmm-cluster-one2one", one2one=False)  # the variant's name fixes it


def test_run_tasks_refuses_an_unknown_option_before_reading_anything(tmp_path):
    with pytest.raises(ProbeError, match="^task lm has no option 'samples'"):
        run_tasks("tfidf-svd", tasks="lm", task_options={"lm": {"samples": 3}},
                  leaderboard_path=tmp_path / "board.json")
    assert not (tmp_path / "board.json").exists()


def test_the_command_line_passes_task_options_as_values(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("probe.runner.run_tasks", lambda *args, **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(app, ["run-tasks", "--encoder", "tfidf-svd", "--tasks", "gmm-cluster,lm",
                                      "--one2one", "--gmm-fits", "2", "--iw-samples", "7", "--leaderboard",
                                      str(tmp_path / "board.json"), "--no-progress"])
    assert result.exit_code == 0, result.output
    (kwargs,) = calls
    assert kwargs["tasks"] == "gmm-cluster,lm"  # names, not task objects
    assert kwargs["task_options"] == {"gmm-cluster": {"one2one": True, "n_fits": 2}, "lm": {"iw_samples": 7}}


# ---- the runner builds the record -------------------------------------------------------------------------


@dataclass
class MeanLoss(RepresentationTask):
    """A made-up task on the valid split whose lower score is better: the record must say so."""

    info: ClassVar[TaskInfo] = TaskInfo(
        name="mean-loss", paper_ref="nowhere, a test", default_dataset="toy", split="valid", main_score="loss",
        higher_is_better=False, main_score_label="mean loss in nats", plot="k-curve",
    )
    n_resamples: int = 50

    def run(self, encoder, data, seed=0) -> TaskOutput:
        losses = [float(np.abs(code).sum()) for code in self.codes(data, "valid")]
        return TaskOutput(scores={"loss": float(np.mean(losses)), "worst": max(losses)}, n_examples=len(losses),
                          per_example={"loss": losses}, examples_hash="h" * 8,
                          extra={"curve": {"1": 1.0, "2": 2.0}})


def toy_data(n: int = 20) -> TaskData:
    codes = np.arange(n, dtype=np.float32)[:, None] / n
    corpus = Corpus("toy", "valid", Path("valid.txt"), [f"s {i}" for i in range(n)], None)
    return TaskData(dataset="toy", splits={"valid": corpus}, embed=lambda split: codes, files_hash="0" * 64)


def test_the_runner_fills_the_record_from_the_task_metadata_and_its_output():
    record = run_one(MeanLoss(), CodesEncoder(), toy_data(), seed=3, max_sentences=20)
    assert isinstance(record, TaskResult) and record.status == "ok"
    assert (record.task, record.dataset, record.split) == ("mean-loss", "toy", "valid")  # not a hard-coded "test"
    assert (record.main_score_name, record.higher_is_better, record.main_score_label, record.plot,
            record.paper_ref) == ("loss", False, "mean loss in nats", "k-curve", "nowhere, a test")
    assert record.main_score == pytest.approx(np.mean(np.arange(20) / 20))
    assert record.scores["worst"] == pytest.approx(19 / 20)
    assert record.per_example == pytest.approx(list(np.arange(20) / 20)) and record.n_examples == 20
    assert record.example_ids_hash == "h" * 8
    lo, hi = record.ci95  # bootstrapped by the runner from the per-example values
    assert lo < record.main_score < hi
    assert record.extra["curve"] == {"1": 1.0, "2": 2.0}
    assert record.extra["seed"] == 3 and record.extra["max_sentences"] == 20
    assert record.seconds >= 0


def test_a_task_that_does_not_apply_is_recorded_with_its_metadata():
    no_valid = TaskData(dataset="toy", splits={}, embed=lambda split: None, files_hash="0" * 64)
    record = run_one(MeanLoss(), CodesEncoder(), no_valid)
    assert record.status == "not_applicable" and "needs the valid split" in record.reason
    assert (record.split, record.higher_is_better, record.main_score_label, record.plot) == (
        "valid", False, "mean loss in nats", "k-curve")


def test_an_output_that_breaks_the_contract_is_a_bug_not_a_record():
    task = MeanLoss()
    with pytest.raises(ValueError, match="mean-loss returned no 'loss' score"):
        build_record(task, "toy", TaskOutput(scores={"worst": 1.0}, n_examples=0))
    with pytest.raises(ValueError, match="the mean of the per-example loss is not the main score"):
        build_record(task, "toy", TaskOutput(scores={"loss": 5.0}, n_examples=2, per_example={"loss": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="the mean of the per-example worst is not its score"):
        build_record(task, "toy", TaskOutput(scores={"loss": 1.5, "worst": 9.0}, n_examples=2,
                                             per_example={"loss": [1.0, 2.0], "worst": [1.0, 2.0]}))
    record = build_record(task, "toy", NotApplicable("no reason to run"))
    assert record.status == "not_applicable" and record.reason == "no reason to run"


def test_every_representation_task_returns_plain_output():
    rng = np.random.default_rng(0)
    splits, codes = {}, {}
    for split, n in (("train", 600), ("valid", 200), ("test", 200)):
        labels = (np.arange(n) % 2).tolist()
        splits[split] = Corpus("toy", split, Path(f"{split}.tsv"), [f"w{i % 7} w{i % 5} x" for i in range(n)], labels)
        codes[split] = rng.standard_normal((n, 4)).astype(np.float32)
    data = TaskData(dataset="toy", splits=splits, embed=lambda split: codes[split], files_hash="0" * 64)
    tasks = [get_task("gmm-cluster"), get_task("few-label", sizes=(100,), n_draws=2),
             get_task("smoothness", n_pairs=500, n_resamples=10), GMMCluster(one2one=True)]
    for task in tasks:
        output = task.run(CodesEncoder(), data, seed=0)
        assert isinstance(output, TaskOutput), task.info.name
        assert task.info.main_score in output.scores
