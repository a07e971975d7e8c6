"""The command line: help and version, which errors are one line, exit statuses, failed writes, progress in logs."""

from __future__ import annotations

import errno
import io
import os
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
import tqdm.std
import typer
from typer.testing import CliRunner

from leaderboard import Entry, TaskResult, add_result
from probe.cache import CacheKey, EmbeddingCache
from probe.cli import app
from tasks.registry import TASKS
from vae.configuration_textvae import TextVAEConfig
from vae.data.tokenizer import build_tokenizer
from probe_common.errors import ProbeError, WriteError
from vae.evaluate import evaluate_run
from vae.export import export_run
from vae.modeling_textvae import TextVAEModel
from vae.progress import progress_bar

runner = CliRunner()

# Where each command hands over to the library: patched to record (or raise) instead of working.
LIBRARY_CALLS = {"train-vae": "vae.train.train_vae", "eval-lm": "vae.evaluate.evaluate_run",
                 "run-tasks": "probe.runner.run_tasks", "leaderboard": "leaderboard.load_summary"}


def command_line(command: str, tmp_path: Path) -> list[str]:
    """A valid invocation of each command (its library call is patched away in the tests that use this)."""
    board = str(tmp_path / "board.json")
    return {"train-vae": ["train-vae", "yelp"], "eval-lm": ["eval-lm", str(tmp_path / "run")],
            "run-tasks": ["run-tasks", "--encoder", "tfidf-svd", "--leaderboard", board],
            "leaderboard": ["leaderboard", "show", "--leaderboard", board]}[command]


def patch_library(monkeypatch, command: str, behaviour) -> None:
    module, name = LIBRARY_CALLS[command].rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", behaviour)


def walk(command, path=("probe",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


# ---- help and version -------------------------------------------------------------------------------------

def test_every_option_and_argument_of_every_command_has_help():
    undocumented = [f"{' '.join(path)} {param.name}" for path, command in walk(typer.main.get_command(app))
                    for param in command.params if not (getattr(param, "help", None) or "").strip()]
    assert undocumented == []


def test_version_prints_the_installed_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"probe {metadata.version('probe')}\n"


def test_help_tells_a_user_what_the_tool_does_and_its_main_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Train LSTM text VAEs" in result.output and "probe train-vae yelp --lam 6" in result.output
    assert "parses arguments" not in result.output


def test_run_tasks_help_lists_every_registered_task():
    result = runner.invoke(app, ["run-tasks", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    text = " ".join(result.output.replace("│", " ").split())
    missing = [name for name in TASKS if f"{name}," not in text and f"{name}." not in text]
    assert result.exit_code == 0 and missing == []


# ---- which errors are one line ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["train-vae", "yelp", "--method", "nope"], "unknown method"),
    (["run-tasks", "--encoder", "tfidf-svd", "--tasks", "nope", "--leaderboard", "BOARD"], "unknown task 'nope'"),
    (["eval-lm", "RUN", "--split", "dev"], "--split dev: choose one of train, valid, test"),
    (["eval-lm", "RUN", "--dataset", "nope"], "nope: not a known dataset"),
    (["eval-lm", "RUN", "--device", "gpu"], "--device gpu: not a device; use one of auto, cpu, cuda, cuda:N"),
    (["leaderboard", "show", "--leaderboard", "FOLDER"], "FOLDER: is a folder; --leaderboard takes a JSON file"),
])
def test_a_user_error_is_one_line_and_exit_status_2(args, message, tmp_path):
    # RUN does not exist: each eval-lm error must come from checking the options, before the run is loaded.
    paths = {"RUN": str(tmp_path / "run"), "FOLDER": str(tmp_path), "BOARD": str(tmp_path / "board.json")}
    result = runner.invoke(app, [paths.get(arg, arg) for arg in args])
    assert result.exit_code == 2, result.output
    assert len(result.output.splitlines()) == 1 and result.output.startswith("error: "), result.output
    assert message.replace("FOLDER", str(tmp_path)) in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_on_a_machine_without_it_says_so(tmp_path):
    result = runner.invoke(app, ["eval-lm", str(tmp_path), "--device", "cuda"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --device cuda: CUDA is not available on this machine")


@pytest.mark.parametrize("error", [KeyError("internal"), ValueError("internal"), FileNotFoundError("internal")])
@pytest.mark.parametrize("command", ["eval-lm", "run-tasks"])
def test_an_internal_error_keeps_its_traceback(command, error, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise error

    patch_library(monkeypatch, command, broken)
    result = runner.invoke(app, command_line(command, tmp_path))
    assert result.exit_code == 1 and result.exception is error


@pytest.mark.parametrize("command", list(LIBRARY_CALLS))
def test_ctrl_c_exits_with_status_130_without_a_traceback(command, monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    patch_library(monkeypatch, command, interrupted)
    result = runner.invoke(app, command_line(command, tmp_path))
    assert result.exit_code == 130 and result.output == "interrupted\n"


# ---- bad numbers are refused before any work --------------------------------------------------------------

@pytest.mark.parametrize("command, option, value", [
    ("train-vae", "--epochs", "0"), ("train-vae", "--max-train-sentences", "0"),
    ("train-vae", "--max-train-sentences", "-1"), ("train-vae", "--iw-samples", "0"),
    ("train-vae", "--min-word-count", "0"),
    ("eval-lm", "--max-sentences", "0"), ("eval-lm", "--max-sentences", "-1"), ("eval-lm", "--iw-samples", "0"),
    ("run-tasks", "--max-sentences", "0"), ("run-tasks", "--max-sentences", "-1"), ("run-tasks", "--iw-samples", "0"),
])
def test_a_bad_number_is_one_line_and_nothing_runs(command, option, value, monkeypatch, tmp_path):
    calls = []
    patch_library(monkeypatch, command, lambda *args, **kwargs: calls.append(args))
    result = runner.invoke(app, [*command_line(command, tmp_path), option, value])
    assert result.exit_code == 2 and calls == []
    assert len(result.output.splitlines()) == 1 and result.output.startswith(f"error: Invalid value for '{option}'")


@pytest.mark.parametrize("option, value, field", [
    ("--min-word-count", "3", "min_word_count"), ("--autoencoder-stage-from", "runs/yelp-ae", "autoencoder_stage_from"),
])
def test_train_vae_passes_its_options_to_the_run(option, value, field, monkeypatch, tmp_path):
    configs = []
    patch_library(monkeypatch, "train-vae", lambda config, log: configs.append(config))
    result = runner.invoke(app, [*command_line("train-vae", tmp_path), option, value])
    assert result.exit_code == 0 and [str(getattr(config, field)) for config in configs] == [value]


@pytest.mark.parametrize("options, message", [
    ({"iw_samples": 0}, "--iw-samples must be a positive integer, got 0"),
    ({"max_sentences": -1}, "--max-sentences must be a positive integer, got -1"),
    ({"split": "dev"}, "--split dev: choose one of train, valid, test"),
])
def test_evaluate_run_checks_its_options_before_loading_anything(options, message, tmp_path):
    with pytest.raises(ProbeError, match=message):
        evaluate_run(tmp_path / "absent", **options)


# ---- failed writes: one line, nothing half-written --------------------------------------------------------

def fail_with(error_number: int):
    def fail(*args, **kwargs):
        raise OSError(error_number, os.strerror(error_number))
    return fail


@pytest.mark.parametrize("patched, error_number", [("replace", errno.EROFS), ("fsync", errno.ENOSPC)])
def test_a_read_only_or_full_disk_is_one_line_and_leaves_the_old_file(patched, error_number, monkeypatch, tmp_path):
    page = tmp_path / "out" / "page.html"
    page.parent.mkdir()
    page.write_text("the old page")
    monkeypatch.setattr(os, patched, fail_with(error_number))
    result = runner.invoke(app, ["leaderboard", "render", "--out", str(page), "--leaderboard",
                                 str(tmp_path / "board.json")])
    assert result.exit_code == 2
    assert result.output == f"error: {page}: cannot write: {os.strerror(error_number)}\n"
    assert page.read_text() == "the old page" and os.listdir(page.parent) == ["page.html"]


def test_a_leaderboard_that_cannot_be_written_is_reported_and_kept(monkeypatch, tmp_path):
    board = tmp_path / "board.json"
    entry = Entry(entry_id="e", encoder_source="e", weights_sha256="a" * 64, method=None, training_config={},
                  dataset_hashes={"yelp": "d" * 64}, versions={})
    result = TaskResult(task="few-label", dataset="yelp", split="test", main_score_name="accuracy", main_score=0.5,
                        scores={"accuracy": 0.5}, n_examples=1, seconds=1.0)
    add_result(board, entry, result)
    before = board.read_bytes()
    monkeypatch.setattr(os, "replace", fail_with(errno.EROFS))
    with pytest.raises(ProbeError, match=f"{board}: cannot write: Read-only file system"):
        add_result(board, entry, TaskResult(**{**result.__dict__, "main_score": 0.9, "scores": {"accuracy": 0.9}}))
    assert board.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["board.json", "board.json.lock"]


def test_a_cache_that_cannot_be_written_is_one_line_and_leaves_no_temporary_file(monkeypatch, tmp_path):
    cache = EmbeddingCache(tmp_path)
    key = CacheKey("a" * 64, "b" * 64, "test", 2)
    monkeypatch.setattr(os, "replace", fail_with(errno.ENOSPC))
    with pytest.raises(WriteError, match=f"{cache.path(key)}: cannot write: No space left on device"):
        cache.get_or_compute(key, lambda: np.zeros((2, 3)))
    assert os.listdir(cache.path(key).parent) == []


def test_run_tasks_refuses_a_folder_as_leaderboard_before_any_work(monkeypatch, tmp_path):
    calls = []
    patch_library(monkeypatch, "run-tasks", lambda *args, **kwargs: calls.append(args))
    result = runner.invoke(app, ["run-tasks", "--encoder", "tfidf-svd", "--leaderboard", str(tmp_path)])
    assert result.exit_code == 2 and calls == []
    assert result.output == f"error: {tmp_path}: is a folder; --leaderboard takes a JSON file\n"


# ---- progress -----------------------------------------------------------------------------------------------

def test_a_bar_in_a_log_writes_a_few_whole_lines(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(tqdm.std, "time", lambda: clock["now"])

    def one_second_each():
        for step in range(1000):
            clock["now"] = float(step)
            yield step

    log = io.StringIO()  # not a terminal
    for _ in progress_bar(one_second_each(), total=1000, desc="work", stream=log, leave=False):
        pass
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 5 <= len(lines) <= 13, lines
    assert lines[0].startswith("work:   0%") and "1000/1000" in lines[-1]


def export_tiny_vae(folder: Path, training: dict | None = None) -> Path:
    tokenizer = build_tokenizer(["a man sleeps .", "the dog runs ."])
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, method="vae", training=training or {"dataset": "snli"})
    export_run(TextVAEModel(config), tokenizer, folder, metrics=None)
    return folder


def test_eval_lm_progress_in_a_log_is_whole_lines(data_dir, tmp_path):
    run = export_tiny_vae(tmp_path / "run")
    result = runner.invoke(app, ["eval-lm", str(run), "--data-dir", str(data_dir), "--max-sentences", "200",
                                 "--iw-samples", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and 1 <= len(result.stderr.splitlines()) <= 3, result.stderr


def test_eval_lm_reads_the_valid_and_test_files_of_a_run_trained_on_a_file(tmp_path):
    sizes = {"mine.txt": 4, "mine-valid.txt": 2, "mine-test.txt": 3, "other-test.txt": 5}
    for name, n in sizes.items():
        (tmp_path / name).write_text("".join(f"a man sleeps {'.' * (i + 1)}\n" for i in range(n)))
    recorded = {"train": "mine.txt", "valid": "mine-valid.txt", "test": "mine-test.txt"}
    run = export_tiny_vae(tmp_path / "run", {"dataset": "mine", "data_files": {
        split: str(tmp_path / name) for split, name in recorded.items()}})
    quick = ["--iw-samples", "2", "--device", "cpu", "--no-progress"]

    def sentences_read(*options) -> str:
        result = runner.invoke(app, ["eval-lm", str(run), *quick, *options])
        assert result.exit_code == 0, result.output
        return result.output.split(" sentences")[0].split("(")[-1]  # "valid (2 sentences, ..." -> "2"

    # The run's own corpus by default: "mine" is no registered dataset, so its recorded files are read.
    assert sentences_read() == "3" and sentences_read("--split", "valid") == "2"
    assert sentences_read("--test", str(tmp_path / "other-test.txt")) == "5"
    assert sentences_read("--dataset", str(tmp_path / "mine.txt"), "--test", str(tmp_path / "other-test.txt")) == "5"
    # Without --test, a file given as --dataset is a train split only: say how to name its test file.
    result = runner.invoke(app, ["eval-lm", str(run), *quick, "--dataset", str(tmp_path / "mine.txt")])
    assert result.exit_code == 2 and "--valid FILE --test FILE" in result.output
    (tmp_path / "mine-test.txt").unlink()
    result = runner.invoke(app, ["eval-lm", str(run), *quick])
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith(f"error: {tmp_path / 'mine-test.txt'}: the test file the model was trained with")


@pytest.fixture
def transformers_bars():
    """transformers' own bars switched on for the test (an earlier test may have switched them off)."""
    from transformers.utils import logging

    was_enabled = logging.is_progress_bar_enabled()
    logging.enable_progress_bar()
    yield
    (logging.enable_progress_bar if was_enabled else logging.disable_progress_bar)()


def test_no_progress_hides_the_loading_bars_of_transformers(transformers_bars, tmp_path):
    from transformers import BertConfig, BertModel

    folder = tmp_path / "bert"
    BertModel(BertConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=16)).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"]) + "\n")
    from transformers import BertTokenizer
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    result = runner.invoke(app, ["run-tasks", "--encoder", str(folder), "--dataset", str(tmp_path / "absent"),
                                 "--leaderboard", str(tmp_path / "board.json"), "--no-progress"])
    assert result.exit_code == 2  # the dataset does not exist: the encoder was loaded first
    assert "Loading weights" not in result.output and "%|" not in result.output, result.output
