"""Training end to end on real Yelp sentences, with the `tiny` preset."""

import json
import subprocess
import sys

import pytest
import torch

import vae.train as train_module
from vae.errors import ProbeError, TrainingDiverged
from vae.methods import METHODS
from vae.train import CHECKPOINT, TrainConfig, Trainer, train_vae


def config(tmp_path, data_dir, name, **overrides):
    values = dict(dataset="yelp", data_dir=str(data_dir), preset="tiny", run_dir=str(tmp_path / name), progress=False)
    values.update(overrides)
    return TrainConfig(**values)


def quiet(_message):
    pass


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_trains_and_reports_the_paper_metrics(tmp_path, data_dir, method):
    metrics = train_vae(config(tmp_path, data_dir, method, method=method, epochs=1, max_train_sentences=300), quiet)
    assert metrics["ppl"] > 1 and metrics["nll"] > 0
    run = tmp_path / method
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(log) == len(METHODS[method].stages)  # one epoch per stage
    if METHODS[method].has_latent:
        assert 0 <= metrics["au"] <= 32 and metrics["kl"] >= 0 and metrics["neg_elbo"] >= metrics["recon"]
        assert {"valid_au", "valid_mi", "train_kl_weight", "lr"} <= set(log[-1])
    else:
        assert metrics["au"] is None and metrics["kl"] is None


def test_same_seed_same_numbers_and_resume_continues_exactly(tmp_path, data_dir, monkeypatch):
    straight = train_vae(config(tmp_path, data_dir, "straight", method="anneal", epochs=3, max_train_sentences=400), quiet)
    again = train_vae(config(tmp_path, data_dir, "again", method="anneal", epochs=3, max_train_sentences=400), quiet)
    assert again == straight

    # Interrupt the same run during its third epoch, then resume it.
    calls = {"n": 0}
    real_run_epoch = Trainer.run_epoch

    def crashing_run_epoch(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_run_epoch(self, *args)

    interrupted = config(tmp_path, data_dir, "resumed", method="anneal", epochs=3, max_train_sentences=400)
    monkeypatch.setattr(Trainer, "run_epoch", crashing_run_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_vae(interrupted, quiet)
    monkeypatch.setattr(Trainer, "run_epoch", real_run_epoch)
    with pytest.raises(ProbeError, match="--resume"):
        train_vae(interrupted, quiet)
    interrupted.resume = True
    resumed = train_vae(interrupted, quiet)
    assert resumed == straight


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path, data_dir, monkeypatch):
    cfg = config(tmp_path, data_dir, "nan", method="vae", epochs=3, max_train_sentences=300)
    real_batch_loss = train_module.batch_loss
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        result = real_batch_loss(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] > 15:  # after the first epoch (10 batches) has been checkpointed
            result.loss = result.loss * float("nan")
        return result

    monkeypatch.setattr(train_module, "batch_loss", poisoned)
    with pytest.raises(TrainingDiverged, match="loss became nan at stage 1, epoch 2"):
        train_vae(cfg, quiet)
    checkpoint = torch.load(tmp_path / "nan" / CHECKPOINT, weights_only=False)
    assert checkpoint["state"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in checkpoint["model"].values())


def test_export_loads_with_automodel_and_gives_the_same_means(tmp_path, data_dir):
    trainer = Trainer(config(tmp_path, data_dir, "export", method="vae", epochs=1, max_train_sentences=300), quiet)
    trainer.fit()
    from vae.export import export_run

    export_run(trainer.model, trainer.tokenizer, trainer.run_dir, None)
    sentences = ["the food was great .", "worst service ever , never again ."]
    batch = trainer.tokenizer(sentences, return_tensors="pt", padding=True)
    trainer.model.eval()
    with torch.no_grad():
        expected = trainer.model(**batch).mean
    # A fresh interpreter that never imports this project: only the exported folder's own code is used.
    script = (
        "import sys, torch\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        "path = sys.argv[1]\n"
        "model = AutoModel.from_pretrained(path, trust_remote_code=True).eval()\n"
        "tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)\n"
        "assert 'vae' not in sys.modules\n"
        f"batch = tokenizer({sentences!r}, return_tensors='pt', padding=True)\n"
        "with torch.no_grad():\n"
        "    torch.save(model(**batch).mean, sys.argv[2])\n"
    )
    out = tmp_path / "means.pt"
    subprocess.run([sys.executable, "-c", script, str(trainer.run_dir), str(out)], check=True, cwd=tmp_path,
                   env={"HF_HUB_OFFLINE": "1", "PATH": "", "HOME": str(tmp_path)})
    assert torch.allclose(torch.load(out), expected, atol=1e-6)
    for name in ("config.json", "model.safetensors", "modeling_textvae.py", "configuration_textvae.py",
                 "tokenizer.json", "tokenizer_config.json", "README.md"):
        assert (trainer.run_dir / name).is_file(), name
    exported = json.loads((trainer.run_dir / "config.json").read_text())
    assert exported["model_type"] == "textvae" and exported["auto_map"]["AutoModel"] == "modeling_textvae.TextVAEModel"


@pytest.mark.slow
def test_pretrain_fb_keeps_the_latent_space_that_the_plain_vae_collapses(tmp_path, data_dir):
    """Section 2.4 vs. Table 1 on a few thousand real Yelp sentences."""
    ours = train_vae(config(tmp_path, data_dir, "ours", method="pretrain-fb", lam=6.0), quiet)
    collapsed = train_vae(config(tmp_path, data_dir, "vae", method="vae"), quiet)
    assert collapsed["au"] <= 1 and collapsed["kl"] < 0.5  # posterior collapse
    assert ours["au"] > collapsed["au"] + 10
    assert ours["kl"] > collapsed["kl"] + 3.0
    assert ours["mi"] > collapsed["mi"] + 0.5
