"""--resume continues the stored run or stops with one line; checkpoints load without unpickling; Ctrl-C says how
to resume."""

import dataclasses
import gzip
import json
import random
import shutil

import numpy as np
import pytest
import torch

from vae.device import rng_state, set_rng_state
from probe_common.errors import ProbeError
from vae.train import CHECKPOINT, TrainConfig, Trainer, load_weights, train_vae
from vae.metrics import without_timing

from helpers import config, quiet


def interrupt_at_epoch(monkeypatch, n):
    """Ctrl-C at the start of the n-th epoch trained from now on."""
    real_run_epoch = Trainer.run_epoch
    calls = {"n": 0}

    def run_epoch(self, *args):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real_run_epoch(self, *args)

    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, data_dir):
    """A short fbp run (lam 3, seed 7) that later tests try to resume with other options."""
    tmp_path = tmp_path_factory.mktemp("finished")
    Trainer(config(tmp_path, data_dir, "run", method="fbp", lam=3.0, seed=7, epochs=1, max_train_sentences=64),
            quiet).fit()
    return tmp_path / "run"


@pytest.mark.parametrize("option, overrides, message", [
    ("lam", {"lam": 4.0}, "--lam 4 differs from the run's lam 3"),
    ("method", {"method": "fb"}, "--method fb differs from the run's method fbp"),
    ("preset", {"preset": "cpu"}, "--preset cpu differs from the run's preset tiny"),
    ("seed", {"seed": 8}, "--seed 8 differs from the run's seed 7"),
    ("max_train_sentences", {"max_train_sentences": 65}, "--max-train-sentences 65 differs from the run's "
                                                          "max_train_sentences 64"),
    ("free_bits_per", {"free_bits_per": "batch"}, "--free-bits-per batch differs from the run's free_bits_per example"),
    ("dataset", {"dataset": "snli"}, "dataset snli differs from the run's dataset yelp"),
])
def test_resume_with_another_option_stops_with_one_line(finished_run, data_dir, option, overrides, message):
    values = dict(dataset="yelp", data_dir=str(data_dir), run_dir=str(finished_run), resume=True, progress=False)
    with pytest.raises(ProbeError) as raised:
        Trainer(TrainConfig(**(values | overrides)), quiet)
    text = str(raised.value)
    assert text == (f"{message} ({finished_run / 'train_config.json'}); "
                    + ("choose another --run-dir" if option == "dataset" else "drop it or choose another --run-dir"))
    assert "\n" not in text


def test_resume_under_a_redefined_preset_stops_with_one_line(finished_run, data_dir, monkeypatch):
    import dataclasses

    from vae import presets

    values = dict(dataset="yelp", data_dir=str(data_dir), run_dir=str(finished_run), resume=True, progress=False)
    Trainer(TrainConfig(**values, epochs=9), quiet)  # another epoch cap is no change of recipe
    redefined = dataclasses.replace(presets.PRESETS["tiny"], pretrain_optimizer="sgd", lr=0.25)
    monkeypatch.setitem(presets.PRESETS, "tiny", redefined)
    with pytest.raises(ProbeError) as raised:
        Trainer(TrainConfig(**values), quiet)
    assert str(raised.value) == (
        f"preset tiny has changed since this run started (lr 0.5 → 0.25, pretrain_optimizer 'adam' → 'sgd'; "
        f"{finished_run / 'train_config.json'}): finish it with the probe version that started it, or choose "
        f"another --run-dir")


def test_a_preset_field_added_since_a_run_started_counts_only_where_it_changes_the_method():
    from vae.methods import get_method
    from vae.presets import PRESETS
    from vae.train import preset_changes

    cpu = PRESETS["cpu"]
    before = {name: value for name, value in dataclasses.asdict(cpu).items() if name != "budget_in_updates"}
    # Recorded before budget_in_updates existed: those runs counted epochs, which is the same for a method without
    # an inner loop and not for aggressive training.
    assert preset_changes(before, cpu, get_method("anneal")) == []
    assert preset_changes(before, cpu, get_method("aggressive")) == ["budget_in_updates False → True"]
    # Recorded before min_word_count existed: every word had an id, as cpu still gives them.
    older = {name: value for name, value in before.items() if name != "min_word_count"}
    assert preset_changes(older, cpu, get_method("anneal")) == []
    assert preset_changes({**older, "min_word_count": 3}, cpu, get_method("anneal")) == ["min_word_count 3 → 1"]
    assert preset_changes({**before, "lr": 0.25}, cpu, get_method("vae")) == ["lr 0.25 → 0.5"]


def test_resume_with_the_same_options_is_accepted(finished_run, data_dir):
    trainer = Trainer(TrainConfig(dataset="yelp", data_dir=str(data_dir), run_dir=str(finished_run), resume=True,
                                  method="fbp", lam=3, preset="tiny", seed=7, max_train_sentences=64, progress=False),
                      quiet)
    assert trainer.fit().finished


def test_ctrl_c_says_how_to_resume_and_resume_alone_continues_the_stored_run(tmp_path, data_dir, monkeypatch):
    options = dict(method="fbp", lam=3.0, seed=7, epochs=2, max_train_sentences=64)
    straight_trainer = Trainer(config(tmp_path, data_dir, "straight", **options), quiet)
    straight = straight_trainer.fit()

    messages = []
    interrupt_at_epoch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        Trainer(config(tmp_path, data_dir, "run", **options), messages.append).fit()
    run = tmp_path / "run"
    assert messages[-1] == (f"interrupted: the last checkpoint (end of epoch 1) is in {run / CHECKPOINT}; "
                            f"continue with: probe train-vae yelp --run-dir {run} --resume")
    monkeypatch.undo()

    # What the message says: the dataset, the run dir, --resume; every other option comes from train_config.json.
    resumed = Trainer(TrainConfig(dataset="yelp", run_dir=str(run), resume=True, data_dir=str(data_dir),
                                  progress=False), quiet)
    assert (resumed.method.name, resumed.lam, resumed.preset.name, resumed.config.seed) == ("fbp", 3.0, "tiny", 7)
    assert (resumed.preset.max_epochs, resumed.preset.max_train_sentences) == (2, 64)
    state = resumed.fit()
    assert [row["valid_loss"] for row in state.log] == [row["valid_loss"] for row in straight.log]
    expected = straight_trainer.model.state_dict()
    assert all(torch.equal(value, expected[name]) for name, value in resumed.model.state_dict().items())


def test_ctrl_c_before_the_first_checkpoint_says_there_is_nothing_to_resume(tmp_path, data_dir, monkeypatch):
    messages = []
    interrupt_at_epoch(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        Trainer(config(tmp_path, data_dir, "early", method="vae", epochs=1, max_train_sentences=64),
                messages.append).fit()
    assert messages[-1] == (f"interrupted before the first checkpoint: nothing to resume; start again with: "
                            f"probe train-vae yelp --run-dir {tmp_path / 'early'}")


def test_resume_on_changed_corpus_files_stops_with_one_line(tmp_path, data_dir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split in ("train", "valid", "test"):
        with gzip.open(data_dir / "yelp" / f"{split}.tsv.gz", "rt", encoding="utf-8") as handle:
            lines = [next(handle).rstrip("\n") for _ in range(100)]
        (corpus / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    cfg = TrainConfig(dataset=str(corpus), method="vae", preset="tiny", run_dir=str(run), epochs=1, progress=False)
    Trainer(cfg, quiet).fit()
    with open(corpus / "train.tsv", "a", encoding="utf-8") as handle:
        handle.write("1\tzyzzyva quokka\n")  # two new words: a larger vocabulary
    cfg.resume = True
    with pytest.raises(ProbeError, match=r"^the model built now \(vocab_size (\d+), .*\) differs from the run's "
                                         r"\(vocab_size (\d+), .*\) in .*train_config.json: the corpus files changed"):
        Trainer(cfg, quiet)


class RunsCodeWhenUnpickled:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling creates the marker file


def test_a_checkpoint_holding_a_python_object_is_refused_without_running_it(finished_run, tmp_path, data_dir):
    run = tmp_path / "crafted"
    shutil.copytree(finished_run, run)
    marker = tmp_path / "code-ran"
    torch.save({"model": RunsCodeWhenUnpickled(marker)}, run / CHECKPOINT)
    trainer = Trainer(TrainConfig(dataset="yelp", data_dir=str(data_dir), run_dir=str(run), resume=True,
                                  progress=False), quiet)
    with pytest.raises(ProbeError) as raised:
        trainer.fit()
    assert str(raised.value).startswith(f"{run / CHECKPOINT}: refused to load: it holds Python objects")
    assert "\n" not in str(raised.value)
    assert not marker.exists()
    # The same for the best weights, which a decay or the end of a stage reloads.
    torch.save({"weight": RunsCodeWhenUnpickled(marker)}, run / "checkpoints/best-stage0.pt")
    with pytest.raises(ProbeError, match="refused to load"):
        load_weights(run / "checkpoints/best-stage0.pt")
    assert not marker.exists()


def test_checkpoints_hold_only_tensors_and_plain_values(finished_run):
    checkpoint = torch.load(finished_run / CHECKPOINT, weights_only=True)
    assert set(checkpoint) == {"model", "optimizers", "state", "batch_rng", "rng"}
    json.dumps({"state": checkpoint["state"], "batch_rng": checkpoint["batch_rng"],
                "python": checkpoint["rng"]["python"], "numpy": checkpoint["rng"]["numpy"]})
    assert checkpoint["rng"]["torch"].dtype == torch.uint8


def test_rng_state_survives_a_weights_only_round_trip(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.standard_normal(), torch.rand(1)  # numpy keeps a cached gaussian
    torch.save(rng_state(), tmp_path / "rng.pt")
    expected = (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist()) == expected


def test_train_vae_resumes_a_finished_run_to_the_same_metrics(finished_run, data_dir, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    first = train_vae(TrainConfig(dataset="yelp", data_dir=str(data_dir), run_dir=str(run), resume=True,
                                  iw_samples=5, progress=False), quiet)
    again = train_vae(TrainConfig(dataset="yelp", data_dir=str(data_dir), run_dir=str(run), resume=True,
                                  iw_samples=5, progress=False), quiet)
    assert without_timing(first) == without_timing(again) and first["method"] == "fbp" and first["lam"] == 3.0 and first["iw_samples"] == 5


def test_resume_with_fewer_epochs_than_already_run_ends_the_stage(tmp_path, data_dir, monkeypatch):
    interrupt_at_epoch(monkeypatch, 3)
    cfg = config(tmp_path, data_dir, "fewer", method="vae", epochs=3, max_train_sentences=64)
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, quiet).fit()  # two epochs done
    monkeypatch.undo()
    real_run_stage, calls = Trainer.run_stage, []

    def counted_run_stage(self, *args):  # a stage that never ends would call this forever
        calls.append(1)
        assert len(calls) < 5, "the stage never ends"
        return real_run_stage(self, *args)

    monkeypatch.setattr(Trainer, "run_stage", counted_run_stage)
    cfg.resume, cfg.epochs = True, 1
    state = Trainer(cfg, quiet).fit()
    assert state.finished and len(state.log) == 2 and len(calls) == 1
