"""Runs that start with an autoencoder stage share it: a run started from another's stage gives the weights and
numbers of the same run trained whole."""

import dataclasses
import json

import pytest
import torch

from probe_common.errors import ProbeError
from probe_common.hashing import file_sha256
from vae import presets
from vae.autoencoder_stage import SNAPSHOT, SNAPSHOT_KEY, AutoencoderStageMismatch
from vae.metrics import without_timing
from vae.train import CHECKPOINT, Trainer, load_weights, train_vae

from helpers import config


@pytest.fixture
def split_tiny(monkeypatch):
    """tiny with the cpu preset's shape: one budget of 4 epochs, 2 of them a two-stage method's autoencoder's."""
    monkeypatch.setitem(presets.PRESETS, "tiny", dataclasses.replace(presets.PRESETS["tiny"], max_epochs=4,
                                                                     pretrain_epochs=2))


def counting_epochs(monkeypatch) -> dict:
    counts = {"epochs": 0}
    real_run_epoch = Trainer.run_epoch

    def run_epoch(self, *args):
        counts["epochs"] += 1
        return real_run_epoch(self, *args)

    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    return counts


def train(tmp_path, data_dir, name, messages=None, **overrides) -> dict:
    log = messages.append if messages is not None else (lambda message: None)
    return train_vae(config(tmp_path, data_dir, name, max_train_sentences=400, **overrides), log)


def log_rows(run) -> list[dict]:
    """log.jsonl without its timings."""
    return [{key: value for key, value in json.loads(line).items() if "seconds" not in key and "per_s" not in key}
            for line in (run / "log.jsonl").read_text().splitlines()]


def test_a_run_started_from_another_runs_autoencoder_stage_is_the_run_trained_whole(tmp_path, data_dir, split_tiny,
                                                                                   monkeypatch):
    whole_ours = train(tmp_path, data_dir, "ours", method="pretrain-fb")
    whole_ae = train(tmp_path, data_dir, "ae", method="ae")
    # Both saved their state where Ours' autoencoder stage ends: after epoch 2 of 4, not at the AE run's end.
    for name in ("ours", "ae"):
        snapshot = load_weights(tmp_path / name / SNAPSHOT)
        assert (snapshot["state"]["stage"], snapshot["state"]["epoch"]) == (0, 2)
    assert load_weights(tmp_path / "ae" / CHECKPOINT)["state"]["epoch"] == 4

    counts = counting_epochs(monkeypatch)
    messages = []
    ours = train(tmp_path, data_dir, "ours-from-ae", messages, method="pretrain-fb",
                 autoencoder_stage_from=str(tmp_path / "ae"))
    assert counts["epochs"] == 2  # only the free-bits stage
    assert f"stage 1 taken from {tmp_path / 'ae'} after its epoch 2" in "\n".join(messages)
    ae = train(tmp_path, data_dir, "ae-from-ours", method="ae", autoencoder_stage_from=str(tmp_path / "ours"))
    assert counts["epochs"] == 4  # the AE run's epochs 3 and 4

    for branch, whole, name in ((ours, whole_ours, "ours"), (ae, whole_ae, "ae")):
        branched = tmp_path / f"{name}-from-{'ae' if name == 'ours' else 'ours'}"
        assert without_timing(branch) == without_timing(whole)
        assert file_sha256(branched / "model.safetensors") == file_sha256(tmp_path / name / "model.safetensors")
        assert log_rows(branched) == log_rows(tmp_path / name)
    recorded = json.loads((tmp_path / "ours-from-ae" / "train_config.json").read_text())
    assert recorded["autoencoder_stage_from"] == str(tmp_path / "ae")


def test_a_donor_that_cannot_give_this_runs_stage_stops_with_one_line(tmp_path, data_dir, split_tiny):
    train(tmp_path, data_dir, "ae", method="ae", epochs=1)
    with pytest.raises(AutoencoderStageMismatch) as raised:  # another seed trains another autoencoder
        train(tmp_path, data_dir, "other-seed", method="pretrain-fb", epochs=1, seed=7,
              autoencoder_stage_from=str(tmp_path / "ae"))
    assert f"--autoencoder-stage-from {tmp_path / 'ae'}: its autoencoder stage was trained with other settings " \
           f"(seed 783435 → 7)" in str(raised.value)
    assert not (tmp_path / "other-seed" / CHECKPOINT).exists()
    threads = torch.get_num_threads()  # another thread count splits the reductions otherwise
    torch.set_num_threads(1 if threads > 1 else 2)
    try:
        with pytest.raises(AutoencoderStageMismatch, match=r"\(device 'cpu: [^']*' → 'cpu: [^']*'\)"):
            train(tmp_path, data_dir, "other-threads", method="pretrain-fb", epochs=1,
                  autoencoder_stage_from=str(tmp_path / "ae"))
    finally:
        torch.set_num_threads(threads)

    with pytest.raises(ProbeError, match="--autoencoder-stage-from: method vae does not start with an autoencoder"):
        train(tmp_path, data_dir, "vae", method="vae", epochs=1, autoencoder_stage_from=str(tmp_path / "ae"))
    train(tmp_path, data_dir, "vae", method="vae", epochs=1)
    assert not (tmp_path / "vae" / SNAPSHOT_KEY).exists()  # a method without the stage saves none
    with pytest.raises(ProbeError, match=f"{tmp_path / 'vae'}: it holds no autoencoder stage to start from"):
        train(tmp_path, data_dir, "from-vae", method="ae", epochs=1, autoencoder_stage_from=str(tmp_path / "vae"))
    (tmp_path / "ae" / SNAPSHOT_KEY).write_text('{"seed": 783435}')  # a record of another version
    with pytest.raises(AutoencoderStageMismatch, match="autoencoder-stage.json is not an autoencoder-stage record"):
        train(tmp_path, data_dir, "old-record", method="pretrain-fb", epochs=1,
              autoencoder_stage_from=str(tmp_path / "ae"))


def test_a_stage_that_its_lr_decays_ended_early_is_shared_where_it_ended(tmp_path, data_dir, monkeypatch):
    """The plateau schedule stops the autoencoder after epoch 2 of its 4: Ours' stage ends there too."""
    import vae.train as train_module

    monkeypatch.setitem(presets.PRESETS, "tiny", dataclasses.replace(
        presets.PRESETS["tiny"], max_epochs=6, pretrain_epochs=4, decay_patience=1, decay_floor_epochs=0,
        max_decays=1))

    def scripted(losses):  # validation losses in turn: epoch 2 is worse than epoch 1, so the lr decays and stops
        remaining = iter(losses)
        return lambda model, batches, objective, device: {"loss": (loss := next(remaining)), "recon": loss, "kl": 0.0}

    monkeypatch.setattr(train_module, "validation_loss", scripted([10.0, 11.0, 5.0, 4.0]))
    train(tmp_path, data_dir, "ours", method="pretrain-fb")
    monkeypatch.setattr(train_module, "validation_loss", scripted([10.0, 11.0]))
    train(tmp_path, data_dir, "ae", method="ae")
    assert load_weights(tmp_path / "ae" / SNAPSHOT)["state"]["epoch"] == 2

    counts = counting_epochs(monkeypatch)
    monkeypatch.setattr(train_module, "validation_loss", scripted([5.0, 4.0]))
    train(tmp_path, data_dir, "ours-from-ae", method="pretrain-fb", autoencoder_stage_from=str(tmp_path / "ae"))
    assert counts["epochs"] == 2  # the free-bits stage's 2 epochs, none more of the autoencoder's
    assert file_sha256(tmp_path / "ours-from-ae" / "model.safetensors") == file_sha256(tmp_path / "ours" /
                                                                                      "model.safetensors")
    assert log_rows(tmp_path / "ours-from-ae") == log_rows(tmp_path / "ours")
