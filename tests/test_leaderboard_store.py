"""The leaderboard's storage: per-example files beside the board, the file layout, versions, start-up cost."""

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard import (
    CorruptExamples,
    Entry,
    LeaderboardError,
    MissingExamples,
    TaskResult,
    add_result,
    load,
    load_examples,
    load_summary,
    with_examples,
)
from leaderboard.examples import examples_dir, examples_path
from leaderboard.json_schema import HERE, json_schemas
from probe_common.errors import WriteError
from probe_common.hashing import bytes_sha256

REPO = Path(__file__).resolve().parents[1]
SHA = "a" * 64


def entry(entry_id="A", sha=SHA):
    return Entry(entry_id=entry_id, encoder_source=f"runs/{entry_id}", weights_sha256=sha, method="pretrain-fb",
                 training_config={"lam": 6.0, "valid": None}, dataset_hashes={"yelp": "d" * 64},
                 versions={"probe": "0.1.0"})


def result(values=(1.0, 0.0, 1.0, 1.0), task="few-label", extra=None, **overrides):
    values = list(values)
    score = sum(values) / len(values)
    fields = dict(task=task, dataset="yelp", split="test", main_score_name="accuracy", main_score=score,
                  scores={"accuracy": score}, n_examples=len(values), seconds=2.0, per_example=values,
                  example_ids_hash="ids", higher_is_better=True, main_score_label="accuracy",
                  plot="label-curve", paper_ref="Table 8", extra={"curve": {"10": 0.5}} if extra is None else extra)
    return TaskResult(**{**fields, **overrides})


def sidecars(board_path):
    folder = examples_dir(board_path)
    return sorted(folder.iterdir()) if folder.exists() else []


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# Start-up: what importing the package and `probe leaderboard show` load


def test_importing_leaderboard_loads_neither_torch_vae_scipy_nor_matplotlib():
    code = ("import leaderboard, sys; assert 'torch' not in sys.modules and 'vae' not in sys.modules and "
            "'scipy' not in sys.modules and 'matplotlib' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_leaderboard_show_loads_no_heavy_module(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry("A"), result())
    add_result(board, entry("B", sha="b" * 64), result(values=[0.0, 0.0, 1.0, 1.0]))
    # The command runs in a fresh interpreter, then reports what it imported.
    code = ("import sys\nfrom probe.cli import app\n"
            f"sys.argv = ['probe', 'leaderboard', 'show', '--leaderboard', {str(board)!r}]\n"
            "try:\n    app()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "heavy = {'torch', 'vae', 'tasks', 'scipy', 'matplotlib', 'sklearn'}\n"
            "print(sorted({name.split('.')[0] for name in sys.modules} & heavy),"
            " 'leaderboard.schema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    *table, imported = done.stdout.splitlines()
    assert [line.split()[:2] for line in table[2:]] == [["A", "0.7500"], ["B", "0.5000"]]
    # No heavy module, and no full validation: the table is read by leaderboard.summary.
    assert imported == "[] False"


# Per-example values live beside the board, in content-addressed files


def test_per_example_values_and_extra_live_in_a_content_addressed_file(tmp_path):
    board = tmp_path / "board.json"
    added = result(values=[0.25, 0.5, 1.0, 0.0], extra={"scatter": [[0.1, 2.0]], "curve": {"10": 0.4}})
    add_result(board, entry(), added)

    text = board.read_text()
    assert "per_example" not in text and "scatter" not in text and "0.25" not in text
    stored = load(board).get_entry("A").results["few-label/yelp"]
    [sidecar] = sidecars(board)
    assert sidecar.name == f"{stored.examples_sha256}.json.gz"
    assert bytes_sha256(sidecar.read_bytes()) == stored.examples_sha256  # the name is the hash of the bytes
    values = load_examples(board, stored)
    assert values.per_example == [0.25, 0.5, 1.0, 0.0]
    assert values.extra == {"scatter": [[0.1, 2.0]], "curve": {"10": 0.4}}
    assert with_examples(board, stored).per_example == [0.25, 0.5, 1.0, 0.0]


def test_identical_values_share_one_file_and_a_result_without_values_needs_none(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry("A"), result())
    add_result(board, entry("B", sha="b" * 64), result())
    add_result(board, entry("B", sha="b" * 64), result(task="lm", per_example=None, n_examples=4, extra={}))
    entries = load(board).entries
    assert entries["A"].results["few-label/yelp"].examples_sha256 == entries["B"].results["few-label/yelp"].examples_sha256
    assert entries["B"].results["lm/yelp"].examples_sha256 is None
    assert len(sidecars(board)) == 1


def test_history_keeps_scores_dates_and_the_file_hash_not_the_values(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry(), result(values=[1.0, 1.0, 1.0, 0.0]))
    add_result(board, entry(), result(values=[0.0, 1.0, 0.0, 0.0]))

    [old] = load(board).get_entry("A").history
    assert (old.main_score, old.scores) == (0.75, {"accuracy": 0.75})
    assert old.date and old.per_example is None and old.extra == {}
    assert load_examples(board, old).per_example == [1.0, 1.0, 1.0, 0.0]
    history_in_file = json.loads(board.read_text())["entries"]["A"]["history"]
    assert set(history_in_file[0]) == {"task", "dataset", "main_score", "scores", "per_seed", "score_ci95",
                                       "seconds", "examples_sha256", "status", "date"}
    assert len(sidecars(board)) == 2


# A per-example file that is gone or changed


def test_a_missing_per_example_file_is_reported_and_the_summary_still_reads(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry(), result())
    [sidecar] = sidecars(board)
    sidecar.unlink()

    stored = load(board).get_entry("A").results["few-label/yelp"]
    assert stored.main_score == 0.75
    with pytest.raises(MissingExamples) as caught:
        load_examples(board, stored)
    assert str(caught.value) == f"{sidecar}: the per-example file of few-label/yelp is missing"
    assert isinstance(caught.value, LeaderboardError)
    assert load_summary(board).entries["A"].results["few-label/yelp"].main_score == 0.75


def _corrupt_by_flipping_a_byte(board, sidecar):
    data = bytearray(sidecar.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sidecar.write_bytes(bytes(data))


def _corrupt_by_another_results_file(board, sidecar):
    other = board.with_name("other.json")
    add_result(other, entry(), result(values=[0.0, 0.0, 0.0, 1.0]))
    shutil.copyfile(sidecars(other)[0], sidecar)


@pytest.mark.parametrize("corrupt", [_corrupt_by_flipping_a_byte, _corrupt_by_another_results_file])
def test_a_changed_per_example_file_is_refused_and_left_untouched(tmp_path, corrupt):
    board = tmp_path / "board.json"
    add_result(board, entry(), result())
    [sidecar] = sidecars(board)
    corrupt(board, sidecar)
    before = sidecar.read_bytes()

    stored = load(board).get_entry("A").results["few-label/yelp"]
    with pytest.raises(CorruptExamples) as caught:
        load_examples(board, stored)
    assert str(caught.value) == (f"{sidecar}: the per-example file of few-label/yelp does not match its sha256 "
                                 "(changed or replaced)")
    with pytest.raises(CorruptExamples):  # adding the same values again does not overwrite it either
        add_result(board, entry(), result())
    assert sidecar.read_bytes() == before


def test_a_file_that_matches_its_hash_but_is_not_a_per_example_file_is_refused(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry(), result())
    foreign = gzip.compress(b'{"format": "something-else"}', mtime=0)
    sha256 = bytes_sha256(foreign)
    examples_path(board, sha256).write_bytes(foreign)
    data = json.loads(board.read_text())
    data["entries"]["A"]["results"]["few-label/yelp"]["examples_sha256"] = sha256
    board.write_text(json.dumps(data))

    with pytest.raises(CorruptExamples, match=r"not a per-example file: format: Input should be "):
        load_examples(board, load(board).get_entry("A").results["few-label/yelp"])
    assert examples_path(board, sha256).read_bytes() == foreign


def test_a_per_example_file_with_the_wrong_number_of_values_is_refused(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry(), result())
    data = json.loads(board.read_text())
    data["entries"]["A"]["results"]["few-label/yelp"]["n_examples"] = 5
    board.write_text(json.dumps(data))
    with pytest.raises(CorruptExamples, match="holds 4 values, few-label/yelp has 5 examples"):
        load_examples(board, load(board).get_entry("A").results["few-label/yelp"])


def test_a_failed_write_of_a_per_example_file_leaves_the_board_and_no_partial_file(tmp_path, monkeypatch):
    board = tmp_path / "board.json"
    add_result(board, entry(), result(task="lm", per_example=None, extra={}))
    before = snapshot(tmp_path)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(WriteError, match=r"board\.examples/[0-9a-f]{64}\.json\.gz: cannot write: No space left"):
        add_result(board, entry(), result())
    after = snapshot(tmp_path)
    assert after == before  # the board as it was; no per-example file and no temporary file
    assert list(examples_dir(board).iterdir()) == []


def test_a_result_naming_a_per_example_file_that_this_board_lacks_is_refused(tmp_path):
    add_result(tmp_path / "one.json", entry(), result())
    stored = load(tmp_path / "one.json").get_entry("A").results["few-label/yelp"]
    other = tmp_path / "two.json"
    with pytest.raises(MissingExamples, match="not beside this board; add the result with its values"):
        add_result(other, entry(), stored)
    add_result(other, entry(), with_examples(tmp_path / "one.json", stored))  # with its values it is welcome
    assert load_examples(other, load(other).get_entry("A").results["few-label/yelp"]).per_example == [1, 0, 1, 1]


# The file: one line per entry, fields a column shares written once


def test_fields_a_column_shares_are_written_once_and_results_that_differ_keep_theirs(tmp_path):
    board = tmp_path / "board.json"
    for name in "ABC":
        add_result(board, entry(name), result())
    # A run on fewer sentences, and a record from before the task declared a plot.
    odd = result(values=[1.0, 0.0], example_ids_hash="ids-2", plot=None, paper_ref=None)
    add_result(board, entry("D"), odd)

    text = board.read_text()
    assert text.count('"Table 8"') == 1 and text.count('"label-curve"') == 1
    assert len(text.splitlines()) == 1 + 3 + 4 + 2  # markers, columns, 4 entries, closing lines
    loaded = load(board)
    assert loaded.get_entry("D").results["few-label/yelp"] == odd.model_copy(
        update={"per_example": None, "extra": {},
                "examples_sha256": loaded.get_entry("D").results["few-label/yelp"].examples_sha256})
    for name in "ABC":
        assert loaded.get_entry(name).results["few-label/yelp"].paper_ref == "Table 8"
        assert loaded.get_entry(name).results["few-label/yelp"].n_examples == 4
    assert load_summary(board).entries["D"].results["few-label/yelp"].higher_is_better is True


def test_the_summary_reads_what_load_reads_and_refuses_the_same_damage(tmp_path):
    board = tmp_path / "board.json"
    add_result(board, entry("A"), result())
    add_result(board, entry("A"), TaskResult.not_applicable(task="lm", dataset="yelp", split="test",
                                                            main_score_name="ppl", reason="no decoder",
                                                            higher_is_better=False))
    full, summary = load(board), load_summary(board)
    for key, stored in full.get_entry("A").results.items():
        seen = summary.entries["A"].results[key]
        assert (seen.key, seen.status, seen.main_score, seen.higher_is_better, seen.main_score_label) == (
            stored.key, stored.status, stored.main_score, stored.higher_is_better, stored.main_score_label)
    data = json.loads(board.read_text())
    data["entries"]["A"]["results"]["few-label/yelp"]["main_score"] = "high"
    board.write_text(json.dumps(data))
    for reader in (load, load_summary):
        with pytest.raises(LeaderboardError, match=rf"{board}: entries\.A\.results\.few-label/yelp\.main_score: "):
            reader(board)


def test_json_schema_files_are_up_to_date():
    for name, text in json_schemas().items():
        assert (HERE / name).read_text() == text, f"run: python -m leaderboard.json_schema ({name} is stale)"
    schema = json.loads((HERE / "leaderboard.schema.json").read_text())
    assert {"format", "schema_version"} <= set(schema["required"])
    result_schema = schema["$defs"]["TaskResult"]
    assert "per_example" not in result_schema["properties"] and "examples_sha256" in result_schema["properties"]
    assert {"higher_is_better", "main_score_label", "plot", "paper_ref", "split"} <= set(result_schema["properties"])
    assert "paper_ref" in schema["properties"]["columns"]["additionalProperties"]["properties"]


# Versions


def version_1_board(path):
    """A board as the previous version wrote it: per-example values, extra and history inline."""
    old = {"task": "few-label", "dataset": "yelp", "split": "test", "main_score_name": "accuracy",
           "main_score": 0.5, "scores": {"accuracy": 0.5}, "per_seed": {}, "ci95": None, "n_examples": 2,
           "seconds": 1.0, "per_example": [1.0, 0.0], "example_ids_hash": "ids",
           "extra": {"curve": {"10": 0.4}}, "status": "ok", "reason": None, "date": "2024-01-01T00:00:00+00:00"}
    new = {**old, "main_score": 1.0, "scores": {"accuracy": 1.0}, "per_example": [1.0, 1.0],
           "date": "2024-02-01T00:00:00+00:00"}
    meta = entry().model_dump(mode="json")
    path.write_text(json.dumps({"format": "probe-leaderboard", "schema_version": 1, "entries": {
        "A": {**meta, "results": {"few-label/yelp": new}, "history": [old]}}}, indent=1))


def test_a_version_1_board_is_read_and_moves_its_values_out_on_the_next_write(tmp_path):
    board = tmp_path / "board.json"
    version_1_board(board)
    before = board.read_bytes()

    current = load(board).get_entry("A").results["few-label/yelp"]
    assert current.per_example == [1.0, 1.0] and load_examples(board, current).extra == {"curve": {"10": 0.4}}
    # Fields that version 1 did not have read as None.
    assert (current.higher_is_better, current.main_score_label, current.plot, current.paper_ref) == (None,) * 4
    assert load_summary(board).entries["A"].results["few-label/yelp"].main_score == 1.0
    assert board.read_bytes() == before  # reading changes nothing

    add_result(board, entry(), result(task="lm", per_example=None, extra={}))
    assert json.loads(board.read_text())["schema_version"] == 3 and "per_example" not in board.read_text()
    upgraded = load(board).get_entry("A")
    assert load_examples(board, upgraded.results["few-label/yelp"]).per_example == [1.0, 1.0]
    assert load_examples(board, upgraded.history[0]).per_example == [1.0, 0.0]
    assert upgraded.history[0].date == "2024-01-01T00:00:00+00:00"
    assert len(sidecars(board)) == 2


def test_compare_says_a_per_example_file_is_missing_and_still_compares_the_scores(tmp_path):
    from leaderboard import compare_entries

    board = tmp_path / "board.json"
    add_result(board, entry("A"), result(values=(1.0, 0.0, 1.0, 1.0), per_seed={"accuracy": [0.7, 0.8]}))
    add_result(board, entry("B", sha="e" * 64), result(values=(1.0, 1.0, 1.0, 1.0), per_seed={"accuracy": [0.9, 1.0]}))
    loaded = load(board)
    missing = examples_dir(board) / f"{loaded.get_entry('A').results['few-label/yelp'].examples_sha256}.json.gz"
    missing.unlink()

    [comparison] = compare_entries(load(board), "A", "B", n_resamples=200)
    assert (comparison.a, comparison.b) == (0.75, 1.0) and comparison.diff == 0.25
    assert not comparison.paired  # the pairing needs both files
    assert comparison.note.startswith(f"{missing}: the per-example file of few-label/yelp is missing; ")
    assert "per-seed" in comparison.note and comparison.lo is not None  # the unpaired figures are still shown
