"""--precision: what auto chooses, what a run records, and that bf16 trains and scores as well as fp32."""

import json

import pytest
import torch

import vae.precision as precision_module
from probe_common.errors import ProbeError
from vae.data import EqualLengthBatcher
from vae.data.tokenizer import encode
from vae.loading import load_textvae
from vae.metrics import evaluate_lm
from vae.precision import resolve_precision
from vae.train import TrainConfig, train_vae


def quiet(message):
    pass


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_scores_in_bf16_only_where_the_cpu_multiplies_bf16_natively_and_trains_in_fp32(monkeypatch, native,
                                                                                             expected):
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: native)
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == expected
    assert resolve_precision("auto", cpu, training=True) == "fp32"  # bf16 training was measured worse
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu, training=True) == "bf16"


def test_fp32_on_a_gpu_is_ieee_not_tf32():
    """torch lets cuDNN's LSTMs round fp32 to TF32 by default; the GPU setup turns that off (no GPU needed)."""
    from vae.device import configure_backends

    if not hasattr(torch.backends, "fp32_precision"):  # torch < 2.9: the legacy flags
        configure_backends(torch.device("cuda"))
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
        return
    saved = torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.rnn.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = torch.backends.cudnn.rnn.fp32_precision = "tf32"
    try:
        configure_backends(torch.device("cpu"))
        assert torch.backends.cudnn.rnn.fp32_precision == "tf32"  # the CPU path leaves GPU settings alone
        configure_backends(torch.device("cuda"))
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
        assert torch.backends.cudnn.rnn.fp32_precision == "ieee"
    finally:
        torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.rnn.fp32_precision = saved


def test_training_defaults_to_fp32_and_records_it(tmp_path, monkeypatch):
    from vae.train import with_defaults

    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    resolved = with_defaults(TrainConfig(dataset="yelp"), torch.device("cpu"))
    assert resolved.precision == "fp32"


def test_an_unknown_precision_is_one_line():
    with pytest.raises(ProbeError, match="--precision fp16: choose one of auto, bf16, fp32"):
        resolve_precision("fp16", torch.device("cpu"))


@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory, data_dir):
    """A tiny-preset pretrain-fb run on real Yelp sentences, trained in bf16 on request."""
    run_dir = tmp_path_factory.mktemp("precision") / "bf16"
    metrics = train_vae(TrainConfig(dataset="yelp", method="pretrain-fb", preset="tiny", data_dir=str(data_dir),
                                    run_dir=str(run_dir), precision="bf16", progress=False), quiet)
    return metrics, run_dir


@pytest.mark.slow
def test_a_run_records_its_precision_and_how_fast_it_trained_and_evaluated(bf16_run):
    metrics, run_dir = bf16_run
    assert metrics["precision"] == "bf16"
    assert json.loads((run_dir / "train_config.json").read_text())["precision"] == "bf16"
    assert json.loads((run_dir / "config.json").read_text())["training"]["precision"] == "bf16"
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert all(row["train_seconds"] > 0 and row["train_sentences_per_s"] > 0 for row in rows)
    assert metrics["seconds"] > 0 and metrics["sentences_per_s"] == pytest.approx(
        metrics["n_sentences"] / metrics["seconds"], rel=0.01)


@pytest.mark.slow
def test_bf16_scoring_matches_fp32_on_the_same_samples(bf16_run, data_dir):
    """Issue targets: IW NLL within 0.05 nats per sentence of fp32, PPL within 0.2 %."""
    from vae.data import load_corpus

    model, tokenizer = load_textvae(bf16_run[1], torch.device("cpu"))
    test = load_corpus("yelp", "test", data_dir).head(200)
    batcher = EqualLengthBatcher(encode(tokenizer, test.sentences), batch_size=32)
    scored = {p: evaluate_lm(model, batcher, "cpu", iw_samples=50, seed=3, precision=p) for p in ("fp32", "bf16")}
    assert scored["bf16"].nll == pytest.approx(scored["fp32"].nll, abs=0.05)
    assert scored["bf16"].ppl == pytest.approx(scored["fp32"].ppl, rel=0.002)
    assert scored["bf16"].precision == "bf16"
