"""The representation probes (gmm-cluster, few-label, smoothness) on codes whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.mixture import GaussianMixture

from probe.runner import run_one  # runs a task and builds its leaderboard record
from probe_common.errors import ProbeError
from tasks.base import TaskData
from tasks.few_label import FewLabel
from tasks.gmm_cluster import (GMMCluster, authors_vector_order, fit_seed, most_probable_example_labels,
                               one_to_one_labels)
from tasks.finetune_probe import finetune_linear_sgd
from tasks.linear_probe import LinearClassifier, SGDSettings, train_linear_sgd
from tasks.registry import get_task
from tasks.smoothness import (Smoothness, random_pairs, sentence_bootstrap_pearson_ci, weighted_pearson,
                              word_edit_distances)
from vae.data.corpus import Corpus

from helpers import CodesEncoder


def task_data(codes: dict[str, np.ndarray], labels: dict[str, np.ndarray] | None = None,
              sentences: dict[str, list[str]] | None = None) -> TaskData:
    splits = {}
    for split, split_codes in codes.items():
        words = sentences[split] if sentences else [f"sentence {split} {i}" for i in range(len(split_codes))]
        split_labels = labels[split].tolist() if labels else None
        splits[split] = Corpus("toy", split, Path(f"{split}.tsv"), words, split_labels)
    return TaskData(dataset="toy", splits=splits, embed=lambda split: codes[split], files_hash="0" * 64)


def labelled_codes(sizes: dict[str, int], separable: bool, seed: int = 0, dim: int = 8):
    """Balanced binary labels; separable codes sit in two far-apart clouds, the others ignore the label."""
    rng = np.random.default_rng(seed)
    codes, labels = {}, {}
    for split, n in sizes.items():
        labels[split] = rng.permutation(np.arange(n) % 2)
        codes[split] = rng.standard_normal((n, dim)).astype(np.float32)
        if separable:
            codes[split][:, 0] += 20.0 * labels[split]
    return task_data(codes, labels)


SIZES = {"train": 1000, "valid": 400, "test": 600}


@pytest.mark.parametrize("task", [GMMCluster(), GMMCluster(one2one=True)], ids=["10-components", "one2one"])
def test_gmm_cluster_separable_codes_give_perfect_accuracy(task):
    result = run_one(task, CodesEncoder(), labelled_codes(SIZES, separable=True), seed=0)
    assert result.main_score == 1.0
    assert result.per_example == [1.0] * SIZES["test"] and result.n_examples == SIZES["test"]
    assert result.ci95 == (1.0, 1.0)
    assert result.task == task.info.name
    assert [len(labels) for labels in result.extra["component_labels"]] == [2 if task.one2one else 10] * 5  # 5 fits


@pytest.mark.parametrize("task", [GMMCluster(), GMMCluster(one2one=True)], ids=["10-components", "one2one"])
def test_gmm_cluster_random_codes_are_near_chance(task):
    result = run_one(task, CodesEncoder(), labelled_codes(SIZES, separable=False), seed=0)
    assert 0.4 < result.main_score < 0.6
    assert result.ci95[0] <= result.main_score <= result.ci95[1]


def test_gmm_cluster_averages_its_fits_and_its_interval_is_over_them():
    data = labelled_codes(SIZES, separable=False)
    result = run_one(GMMCluster(n_fits=3), CodesEncoder(), data, seed=4)
    fits = result.per_seed["accuracy"]
    # Each fit is the authors' single fit with its own initialisation, computed here directly.
    order = authors_vector_order(data.corpus("valid").sentences)
    for fit, accuracy in enumerate(fits):
        gmm = GaussianMixture(10, tol=1e-3, max_iter=200, n_init=1, random_state=fit_seed(4, fit))
        gmm.fit(data.embed("train"))
        labels = most_probable_example_labels(gmm.predict_proba(data.embed("valid")[order]),
                                              np.asarray(data.corpus("valid").labels)[order])
        expected = np.mean(labels[gmm.predict(data.embed("test"))] == np.asarray(data.corpus("test").labels))
        assert accuracy == pytest.approx(expected)
    assert len(set(fits)) == 3  # the initialisations differ
    assert result.main_score == pytest.approx(np.mean(fits)) == pytest.approx(np.mean(result.per_example))
    half = stats.t.ppf(0.975, 2) * np.std(fits, ddof=1) / np.sqrt(3)
    assert result.ci95 == pytest.approx((np.mean(fits) - half, np.mean(fits) + half))
    assert result.scores["std_accuracy"] == pytest.approx(np.std(fits, ddof=1))
    assert result.extra["per_seed_unit"] == "GMM fits"
    single = run_one(GMMCluster(n_fits=1), CodesEncoder(), data, seed=4)
    assert single.main_score == pytest.approx(fits[0]) and "std_accuracy" not in single.scores
    assert single.ci95 != result.ci95  # one fit: the bootstrap over the test examples
    with pytest.raises(ProbeError, match="n_fits must be at least 1, got 0"):
        run_one(GMMCluster(n_fits=0), CodesEncoder(), data, seed=4)


def test_gmm_component_labels_follow_the_authors_rules():
    # Component 0 is most probable for example 2 (label 7), component 1 for example 0 (label 5).
    proba = np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2]])
    assert most_probable_example_labels(proba, np.array([5, 6, 7])).tolist() == [7, 5]
    # Tied at exactly 1.0, as predict_proba rounds: the first in the given order.
    tied = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert most_probable_example_labels(tied, np.array([5, 6, 7])).tolist() == [5, 7]
    assert most_probable_example_labels(tied[[1, 0, 2]], np.array([6, 5, 7])).tolist() == [6, 7]
    # The authors' val.vec order: by word count, file order within a length.
    assert authors_vector_order(["a b c", "a", "b c", "d", "e f g h"]).tolist() == [1, 3, 2, 0, 4]
    # Components 0 and 1 mostly hold classes 1 and 0: the assignment crosses them.
    components, labels = np.array([0, 0, 0, 1, 1]), np.array([1, 1, 0, 0, 0])
    assert one_to_one_labels(components, labels, np.array([0, 1])).tolist() == [1, 0]


def test_gmm_cluster_resolves_certain_components_by_the_shortest_validation_sentence():
    """Two clouds 1000 apart: every validation sentence is certain of its component (p = 1.0 exactly). Each
    component then takes the label of its shortest sentence, as in the authors' length-sorted val.vec; in file
    order it would take the other label and score 0."""
    rng = np.random.default_rng(0)
    cloud = lambda n, where: rng.standard_normal((n, 2)) + [1000.0 * where, 0.0]  # noqa: E731
    codes = {"train": np.vstack([cloud(100, 0), cloud(100, 1)]), "valid": np.vstack([cloud(5, 0), cloud(5, 1)]),
             "test": np.vstack([cloud(30, 0), cloud(30, 1)])}
    # Each cloud's first validation sentence is long and carries the label its shortest one does not.
    valid_words = ["long one two three four", "two words", "three words here", "one", "four words are here"] * 2
    labels = {"train": np.zeros(200, int), "valid": np.array([0, 0, 0, 1, 0, 1, 1, 1, 0, 1]),
              "test": np.array([1] * 30 + [0] * 30)}
    sentences = {"train": ["x"] * 200, "valid": valid_words, "test": ["x"] * 60}
    task = GMMCluster(n_components=2, n_fits=2)
    result = run_one(task, CodesEncoder(), task_data(codes, labels, sentences), seed=0)
    assert result.main_score == 1.0
    assert all(sorted(fit) == [0, 1] for fit in result.extra["component_labels"])


def test_few_label_separable_codes_give_perfect_accuracy():
    task = FewLabel(sizes=(100, 500))
    result = run_one(task, CodesEncoder(), labelled_codes(SIZES, separable=True), seed=0)
    assert result.main_score == 1.0
    assert result.scores["100"] == result.scores["500"] == 1.0
    assert result.per_seed["500"] == result.per_seed["accuracy"] == [1.0] * task.n_draws
    assert result.extra["curve"] == {"100": 1.0, "500": 1.0} and result.extra["main_size"] == 500
    assert result.per_example == [1.0] * SIZES["test"]


def test_few_label_random_codes_are_near_chance_and_sizes_that_do_not_fit_are_dropped():
    task = FewLabel(sizes=(100, 500, 10_000))  # 10k labels do not fit in 1000 train examples
    result = run_one(task, CodesEncoder(), labelled_codes(SIZES, separable=False), seed=0)
    assert 0.4 < result.main_score < 0.6
    assert result.main_score == pytest.approx(np.mean(result.per_seed["500"]))
    assert np.mean(result.per_example) == pytest.approx(result.main_score)
    assert set(result.extra["curve"]) == {"100", "500"} and "10000" not in result.scores
    assert len(result.per_seed["100"]) == task.n_draws and result.scores["std_100"] >= 0


def test_few_label_draws_depend_on_the_seed_only():
    data = labelled_codes(SIZES, separable=False)
    task = FewLabel(sizes=(100,), n_draws=2)
    first, again, other = (run_one(task, CodesEncoder(), data, seed=s) for s in (0, 0, 1))
    assert first.per_seed == again.per_seed
    assert first.per_seed != other.per_seed


def test_labelled_tasks_are_not_applicable_without_labels_or_enough_examples():
    unlabelled = task_data({s: np.zeros((n, 2), np.float32) for s, n in SIZES.items()})
    assert "needs labels" in FewLabel().not_applicable_reason(CodesEncoder(), unlabelled)
    small = labelled_codes({"train": 50, "valid": 20, "test": 20}, separable=True)
    assert "at least 100 train examples" in FewLabel().not_applicable_reason(CodesEncoder(), small)
    no_valid = labelled_codes({"train": 200, "test": 20}, separable=True)
    assert "valid" in GMMCluster().not_applicable_reason(CodesEncoder(), no_valid)


def test_word_edit_distance_counts_word_operations():
    sentences = ["a b c", "a c d", "a b c", "x"]
    first, second = np.array([0, 0, 2]), np.array([1, 2, 3])
    assert word_edit_distances(sentences, first, second).tolist() == [2.0, 0.0, 3.0]


def test_random_pairs_are_distinct_and_cover_every_sentence():
    first, second = random_pairs(5, 10_000, np.random.default_rng(0))
    assert (first != second).all()
    assert set(first) == set(second) == set(range(5))


def test_smoothness_is_one_when_code_distance_equals_edit_distance():
    # Sentence i repeats one word i times: the word edit distance of i and j is |i - j|, as is |code_i - code_j|.
    sentences = [" ".join(["w"] * i) for i in range(1, 61)]
    codes = np.arange(1, 61, dtype=np.float32)[:, None]
    data = task_data({"test": codes}, sentences={"test": sentences})
    result = run_one(Smoothness(n_pairs=5000, n_resamples=200), CodesEncoder(), data, seed=0)
    assert result.main_score == pytest.approx(1.0, abs=1e-9)
    assert result.ci95[0] > 0.999
    scatter = np.array(result.extra["scatter"])
    assert scatter.shape == (500, 2) and np.allclose(scatter[:, 0], scatter[:, 1])


def test_smoothness_is_high_for_a_monotone_function_of_edit_distance():
    # Position-specific words: edit distance = Hamming distance of the bit vectors; L2 = its square root.
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(300, 12))
    sentences = [" ".join(f"p{p}v{b}" for p, b in enumerate(row)) for row in bits]
    data = task_data({"test": bits.astype(np.float32)}, sentences={"test": sentences})
    result = run_one(Smoothness(n_pairs=20_000, n_resamples=100), CodesEncoder(), data, seed=0)
    assert result.main_score > 0.95


def test_smoothness_of_random_codes_is_near_zero():
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(list("abcdefgh"), size=rng.integers(3, 12))) for _ in range(400)]
    data = task_data({"test": rng.standard_normal((400, 32)).astype(np.float32)}, sentences={"test": sentences})
    result = run_one(Smoothness(n_pairs=20_000, n_resamples=100), CodesEncoder(), data, seed=0)
    assert abs(result.main_score) < 0.05
    assert result.n_examples == 20_000 and result.per_example is None


def test_weighted_pearson_is_the_pearson_of_repeated_rows():
    rng = np.random.default_rng(0)
    x, weights = rng.standard_normal(50), rng.integers(0, 4, size=50)
    y = x + rng.standard_normal(50)
    repeated = np.corrcoef(np.repeat(x, weights), np.repeat(y, weights))[0, 1]
    assert weighted_pearson(x, y, weights) == pytest.approx(repeated, abs=1e-12)


def test_smoothness_interval_is_as_wide_as_the_spread_over_test_sets():
    # Many pairs share each of few sentences. The PCC's spread over independently drawn test sets (computed
    # directly here) is what the interval must reflect; resampling the pairs alone gave 1/8 of this width.
    rng = np.random.default_rng(0)
    n_sentences, n_pairs = 60, 5000

    def test_set():
        codes = rng.standard_normal(n_sentences)
        edits = codes + rng.standard_normal(n_sentences)  # an edit-distance feature that follows the code
        first, second = random_pairs(n_sentences, n_pairs, rng)
        return np.abs(codes[first] - codes[second]), np.abs(edits[first] - edits[second]), first, second

    spread_width = 3.92 * np.std([np.corrcoef(*test_set()[:2])[0, 1] for _ in range(300)])
    widths = []
    for seed in range(5):
        low, high = sentence_bootstrap_pearson_ci(*test_set(), n_sentences, n_resamples=300, seed=seed)
        widths.append(high - low)
    assert 0.7 * spread_width < np.mean(widths) < 1.4 * spread_width


# ---- few-label: the authors' protocol ---------------------------------------------------------------


class RecordingFewLabel(FewLabel):
    """FewLabel that remembers the labelled subset of every classifier it trains, in order (seed, size)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.subsets = []

    def fit(self, subset, valid, classes, rng, encoder):
        self.subsets.append(subset)
        return super().fit(subset, valid, classes, rng, encoder)


def rows_of(codes: np.ndarray, subset_codes: np.ndarray) -> set[int]:
    index = {row.tobytes(): i for i, row in enumerate(codes)}
    return {index[row.tobytes()] for row in subset_codes}


def test_few_label_subsets_are_nested_and_drawn_anew_per_seed():
    sizes = (100, 500, 1000, 2000)
    data = labelled_codes({"train": 3000, "valid": 200, "test": 200}, separable=True)
    task = RecordingFewLabel(sizes=sizes, n_draws=3, sgd=SGDSettings(max_epochs=2))
    task.run(CodesEncoder(), data, seed=0)
    train = data.embed("train")
    drawn = [[rows_of(train, task.subsets[draw * len(sizes) + i].inputs) for i in range(len(sizes))]
             for draw in range(3)]
    for draw in drawn:
        assert [len(rows) for rows in draw] == list(sizes)
        assert all(small < large for small, large in zip(draw, draw[1:]))  # 100 in 500 in 1000 in 2000
    assert drawn[0][0] != drawn[1][0] != drawn[2][0]  # each seed draws its own labels


@pytest.mark.parametrize("classifier", ["linear-sgd", "logistic-regression"])
def test_few_label_does_not_standardise_a_collapsed_code(classifier):
    # A collapsed model: every dimension is nearly constant, and the label shows only in variations of 1e-6.
    # Scaled to unit variance, that dimension separates the classes perfectly; as the raw codes a linear
    # probe sees, it carries next to nothing, which is what Table 8 measures.
    rng = np.random.default_rng(0)
    codes, labels = {}, {}
    for split, n in SIZES.items():
        labels[split] = rng.permutation(np.arange(n) % 2)
        codes[split] = (1.0 + 1e-7 * rng.standard_normal((n, 4))).astype(np.float64)
        codes[split][:, 0] += 1e-6 * labels[split]
    result = run_one(FewLabel(sizes=(500,), n_draws=2, classifier=classifier), CodesEncoder(), task_data(codes, labels))
    assert result.main_score < 0.65
    assert result.extra["features"] == "raw codes, not standardised"


def test_few_label_validation_loss_stops_training_early():
    # The validation labels are the train labels flipped: the validation loss only grows, so the SGD probe
    # stops after its learning-rate decays (text_ss_ft.py) long before the 100 epochs.
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.arange(400) % 2)
    codes = rng.standard_normal((400, 8)) + 3.0 * labels[:, None]
    fitted = train_linear_sgd(codes[:200], labels[:200], np.full(200, 5), codes[200:], 1 - labels[200:],
                              np.array([0, 1]), np.random.default_rng(0))
    assert fitted.chosen < 30


def test_few_label_sgd_batches_hold_one_sentence_length(monkeypatch):
    # The authors' create_data_batch_labels: 5 sentences of 1 word, 30 of 2, 1 of 3, batches of at most 16, so
    # each epoch makes batches of 5, 16, 14 and 1 rows (random batches of 16 would give 16, 16 and 4).
    import tasks.linear_probe as linear_probe

    rows_per_batch = []
    original_softmax = linear_probe.softmax
    monkeypatch.setattr(linear_probe, "softmax", lambda logits: rows_per_batch.append(len(logits)) or
                        original_softmax(logits))
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.arange(36) % 2)
    lengths = np.array([2] * 15 + [1] * 5 + [2] * 15 + [3])
    fitted = train_linear_sgd(rng.standard_normal((36, 4)), labels, lengths, rng.standard_normal((20, 4)),
                              rng.permutation(np.arange(20) % 2), np.array([0, 1]), rng, SGDSettings(max_epochs=3))
    assert fitted.chosen == 3
    assert [sorted(rows_per_batch[epoch * 4 : epoch * 4 + 4]) for epoch in range(3)] == [[1, 5, 14, 16]] * 3
    assert rows_per_batch[:4] != rows_per_batch[4:8] or rows_per_batch[4:8] != rows_per_batch[8:]  # order shuffled


def test_few_label_sgd_probe_has_the_authors_10_outputs_and_an_unused_output_is_wrong():
    rng = np.random.default_rng(0)
    codes, labels = rng.standard_normal((40, 3)), rng.permutation(np.arange(40) % 2)
    binary = train_linear_sgd(codes, labels, np.ones(40), codes, labels, np.array([0, 1]), rng,
                              SGDSettings(max_epochs=2)).classifier
    assert binary.weight.shape == (3, 10) and binary.bias.shape == (10,)
    many = np.arange(40) % 12
    assert train_linear_sgd(codes, many, np.ones(40), codes, many, np.arange(12), rng,
                            SGDSettings(max_epochs=1)).classifier.weight.shape == (3, 12)
    # Output 4 wins for the second code: it names no class, so that prediction matches no label.
    weight, bias = np.zeros((1, 10)), np.zeros(10)
    weight[0, 1], weight[0, 4] = 1.0, -1.0
    predicted = LinearClassifier(weight, bias, np.array([3, 8])).predict(np.array([[2.0], [-2.0]]))
    assert predicted[0] == 8 and predicted[1] not in (3, 8)


def test_few_label_batches_by_the_word_counts_of_the_drawn_sentences():
    data = labelled_codes({"train": 600, "valid": 100, "test": 100}, separable=True)
    rng = np.random.default_rng(1)
    sentences = [" ".join(["w"] * int(n)) for n in rng.integers(1, 20, 600)]
    data.splits["train"] = Corpus("toy", "train", Path("train.tsv"), sentences, data.corpus("train").labels)
    task = RecordingFewLabel(sizes=(100, 500), n_draws=2, sgd=SGDSettings(max_epochs=1))
    task.run(CodesEncoder(), data, seed=0)
    train = data.embed("train")
    for subset in task.subsets:
        rows = [np.flatnonzero((train == code).all(axis=1))[0] for code in subset.inputs]
        assert subset.lengths.tolist() == [len(sentences[row].split()) for row in rows]


def write_tsv(path: Path, labels: np.ndarray, sentences: list[str]) -> None:
    path.write_text("".join(f"{label}\t{sentence}\n" for label, sentence in zip(labels, sentences)))


def test_few_label_uses_the_released_subset_files_when_the_folder_has_them(tmp_path):
    # Valid/test and the released subsets are separable; the folder's train split is not (its labels are
    # shuffled), so perfect accuracy at 100 and 500 labels shows the files were used.
    rng = np.random.default_rng(0)
    file_codes, splits, codes = {}, {}, {}
    for name, n in (("train", 600), ("valid", 200), ("test", 200), ("train.100", 100), ("train.500", 500)):
        labels = rng.permutation(np.arange(n) % 2)
        sentences = [f"{name} sentence {i}" for i in range(n)]
        split_codes = rng.standard_normal((n, 4)).astype(np.float32)
        split_codes[:, 0] += 20.0 * (labels if name != "train" else rng.permutation(labels))
        write_tsv(tmp_path / f"{name}.tsv", labels, sentences)
        file_codes.update(zip(sentences, split_codes))
        if name in ("train", "valid", "test"):
            codes[name] = split_codes
            splits[name] = Corpus("toy", name, tmp_path / f"{name}.tsv", sentences, labels.tolist())
    read = []

    def embed_file(corpus: Corpus) -> np.ndarray:
        read.append(corpus.path.name)
        return np.stack([file_codes[s] for s in corpus.sentences])

    data = TaskData("toy", splits, embed=lambda split: codes[split], files_hash="0" * 64, embed_file=embed_file)
    result = run_one(FewLabel(sizes=(100, 500, 1000)), CodesEncoder(), data, seed=0)
    assert read == ["train.100.tsv", "train.500.tsv"]
    assert result.extra["label_subsets"] == {"100": "train.100.tsv", "500": "train.500.tsv"}  # 1000: no file, no fit
    assert result.scores["100"] == result.scores["500"] == 1.0
    assert set(result.extra["label_subset_sha256"]) == {"100", "500"}
    # Without a train split the released subsets are enough; sizes with neither are left out.
    del splits["train"]
    assert FewLabel().not_applicable_reason(CodesEncoder(), data) is None
    assert FewLabel(use_subset_files=False).not_applicable_reason(CodesEncoder(), data) is not None


# ---- few-label-finetune: the authors' default, the encoder trained with the classifier --------------------


def collapsed_text_vae(folder: Path, train_sentences: list[str]):
    """A text VAE whose posterior mean is 0 for every sentence (a zero Gaussian head) over a random LSTM."""
    from probe.encoders import load_encoder
    from vae.configuration_textvae import TextVAEConfig
    from vae.data import build_tokenizer
    from vae.export import export_run
    from vae.modeling_textvae import TextVAEModel

    tokenizer = build_tokenizer(train_sentences)
    config = TextVAEConfig(vocab_size=len(tokenizer), embed_dim=8, encoder_hidden_size=16, decoder_hidden_size=16,
                           latent_dim=4, method="vae", training={"dataset": "toy"})
    torch.manual_seed(0)
    model = TextVAEModel(config)
    for parameter in model.encoder.parameters():
        torch.nn.init.uniform_(parameter, -0.5, 0.5)
    torch.nn.init.zeros_(model.encoder.to_gaussian.weight)
    export_run(model, tokenizer, folder, metrics=None)
    return load_encoder(folder)


def test_few_label_finetune_trains_a_copy_of_the_encoder_past_a_collapsed_code(tmp_path):
    # The label is the last word; the frozen code is 0 for every sentence, so only training the encoder helps.
    rng = np.random.default_rng(0)
    words = ["the", "food", "was", "service", "is", "place", "and", "our", "table"]
    splits = {}
    for split, n in (("train", 300), ("valid", 100), ("test", 200)):
        labels = rng.permutation(np.arange(n) % 2)
        sentences = [" ".join([*rng.choice(words, size=rng.integers(2, 6)), "good" if label else "bad"])
                     for label in labels]
        splits[split] = Corpus("toy", split, Path(f"{split}.tsv"), sentences, labels.tolist())
    encoder = collapsed_text_vae(tmp_path / "vae", splits["train"].sentences)
    weights_before = {k: v.clone() for k, v in encoder.model.state_dict().items()}
    data = TaskData("toy", splits, embed=lambda split: encoder.encode(splits[split].sentences), files_hash="0" * 64)
    settings = SGDSettings(max_epochs=30)
    frozen = run_one(FewLabel(sizes=(100,), n_draws=2, sgd=settings), encoder, data, seed=0)
    finetuned = run_one(get_task("few-label-finetune", sizes=(100,), n_draws=2, sgd=settings), encoder, data, seed=0)
    assert frozen.main_score == 0.5  # a constant code: one class for every sentence
    assert finetuned.task == "few-label-finetune" and finetuned.main_score > 0.95
    assert finetuned.extra["features"] == "the encoder fine-tuned"
    assert all(torch.equal(weights_before[k], v) for k, v in encoder.model.state_dict().items())  # a copy trained
    # The seed fixes the layer's initialisation, the dropout masks and the batch order.
    train, valid = splits["train"], splits["valid"]
    classifiers = [finetune_linear_sgd(*encoder.text_vae, train.sentences[:100], np.array(train.labels[:100]),
                                       valid.sentences, np.array(valid.labels), np.array([0, 1]), seed,
                                       SGDSettings(max_epochs=2)).classifier for seed in (1, 1, 2)]
    logits = [classifier.logits(classifier.batches(valid.sentences)) for classifier in classifiers]
    assert np.array_equal(logits[0], logits[1]) and not np.allclose(logits[0], logits[2])
    assert "not a text VAE of this project" in run_one(get_task("few-label-finetune"), CodesEncoder(),
                                                        labelled_codes(SIZES, separable=True)).reason
