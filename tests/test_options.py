"""Bad training options stop with one line naming the option, before any data is read or any file written."""

import pytest

import vae.train as train_module
from probe_common.errors import ProbeError
from vae.train import TrainConfig, Trainer


@pytest.fixture
def no_work(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("work started before the options were checked")

    monkeypatch.setattr(train_module, "load_corpus", refuse)
    monkeypatch.setattr(train_module, "locate", refuse, raising=False)


@pytest.mark.parametrize("overrides, message", [
    ({"epochs": 0}, "--epochs must be at least 1, got 0"),
    ({"epochs": -3}, "--epochs must be at least 1, got -3"),
    ({"max_train_sentences": 0}, "--max-train-sentences must be at least 1, got 0"),
    ({"max_train_sentences": -5}, "--max-train-sentences must be at least 1, got -5"),
    ({"iw_samples": 0}, "--iw-samples must be at least 1, got 0"),
    ({"lam": 0.0}, "--lam must be a positive number of nats, got 0.0"),
    ({"seed": -1}, "--seed must be between 0 and 4294967295, got -1"),
    ({"free_bits_per": "dimension"}, "--free-bits-per dimension: choose one of example, batch"),
    ({"method": "vea"}, "--method vea: unknown method; choose one of pretrain-fb, vae, anneal, cyclic, cyclic-sgd, "
                        "aggressive, fb, fbp, ae, lm, iwae, pretrain, pretrain-anneal"),
    ({"preset": "fast"}, "--preset fast: unknown preset; choose one of paper, paper-text, cpu, tiny"),
])
def test_bad_options_stop_with_one_line_before_any_work(tmp_path, no_work, overrides, message):
    config = TrainConfig(dataset="yelp", run_dir=str(tmp_path / "run"), progress=False, **overrides)
    with pytest.raises(ProbeError) as raised:
        Trainer(config, print)
    assert str(raised.value) == message
    assert not (tmp_path / "run").exists()



def test_the_lm_metric_names_and_the_importance_sample_default_are_defined_once():
    import dataclasses
    import inspect

    from probe.cli import eval_lm_command
    from tasks.lm import LanguageModelling
    from vae.evaluate import evaluate_run
    from vae.metrics import SCORE_LABELS, LMMetrics, evaluate_lm, format_metrics
    from vae.presets import DEFAULT_IW_SAMPLES, PRESETS

    assert set(SCORE_LABELS) <= {field.name for field in dataclasses.fields(LMMetrics)}
    defaults = [PRESETS["paper"].iw_samples, LanguageModelling().iw_samples,
                inspect.signature(evaluate_run).parameters["iw_samples"].default,
                inspect.signature(evaluate_lm).parameters["iw_samples"].default]
    assert defaults == [DEFAULT_IW_SAMPLES] * len(defaults) == [1000] * len(defaults)  # Section 2.1
    # The command line leaves it unset (so it need not import vae/ to start) and takes DEFAULT_IW_SAMPLES then.
    assert inspect.signature(eval_lm_command).parameters["iw_samples"].default.default is None
    lstm_lm = LMMetrics(nll=30.0, ppl=90.0, recon=None, kl=None, neg_elbo=None, elbo_ppl=None, mi=None, au=None,
                        iw_samples=0, n_sentences=10, n_tokens=100)
    assert lstm_lm.scores() == {"nll": 30.0, "ppl": 90.0}
    line = format_metrics(lstm_lm.to_dict())
    assert line.endswith("NLL 30.00 PPL 90.00 Recon - KL - -ELBO - ELBO-PPL - MI - AU -")
