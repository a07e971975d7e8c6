"""Behaviour of the leaderboard package: storage, statistics, comparison, display."""

import base64
import json
import multiprocessing
import re

import numpy as np
import pytest
from pydantic import ValidationError

from leaderboard import (
    SCHEMA_VERSION,
    Entry,
    LeaderboardError,
    TaskResult,
    add_result,
    bootstrap_ci,
    compare_entries,
    format_table,
    load,
    load_examples,
    paired_bootstrap_diff,
    render_html,
    show_table,
    with_examples as with_stored_examples,
)
from leaderboard.schema import one_line

SHA_A = "a" * 64
SHA_B = "b" * 64


def make_entry(entry_id="yelp-pretrain-fb-lam6", sha=SHA_A, **overrides):
    fields = dict(
        entry_id=entry_id,
        encoder_source=f"runs/{entry_id}/encoder.pt",
        weights_sha256=sha,
        method="pretrain-fb",
        training_config={"lambda": 6, "epochs": 10},
        dataset_hashes={"yelp": "d" * 64},
        versions={"probe": "0.1.0", "torch": "2.5.0"},
    )
    fields.update(overrides)
    return Entry(**fields)


def make_result(task="few-label", dataset="yelp", score=0.8, **overrides):
    fields = dict(
        task=task,
        dataset=dataset,
        split="test",
        main_score_name="accuracy",
        main_score=score,
        scores={"accuracy": score, "f1": score - 0.05},
        n_examples=0,
        seconds=1.5,
    )
    fields.update(overrides)
    return TaskResult(**fields)


def with_examples(values, ids_hash, **overrides):
    values = [float(v) for v in values]
    score = float(np.mean(values))
    return make_result(
        score=score,
        scores={"accuracy": score},
        per_example=values,
        n_examples=len(values),
        example_ids_hash=ids_hash,
        **overrides,
    )


# Storage


def test_missing_file_is_an_empty_board(tmp_path):
    assert load(tmp_path / "none.json").entries == {}


def test_round_trip_keeps_every_value(tmp_path):
    path = tmp_path / "board.json"
    result = make_result(
        per_seed={"accuracy": [0.79, 0.81]},
        ci95=(0.78, 0.82),
        n_examples=3,
        per_example=np.array([True, False, True]),  # 0/1 correctness
        example_ids_hash="ids-1",
        extra={"curve": {"10": 0.6, "100": 0.8}},
        higher_is_better=True, main_score_label="accuracy", plot="label-curve", paper_ref="Table 8",
    )
    add_result(path, make_entry(), result)
    add_result(path, make_entry(), TaskResult.not_applicable(
        task="interpolate", dataset="yelp", split="test",
        main_score_name="bleu", reason="encoder has no decoder",
    ))

    board = load(path)
    entry = board.get_entry("yelp-pretrain-fb-lam6")
    stored = entry.results["few-label/yelp"]
    assert entry == make_entry(
        results={result.key: stored, "interpolate/yelp": entry.results["interpolate/yelp"]},
        date=entry.date,
    )
    # The board holds the summary; per-example values and extra come from the result's per-example file.
    assert stored.per_example is None and stored.extra == {}
    assert stored.model_copy(update={"examples_sha256": None}) == result.model_copy(
        update={"per_example": None, "extra": {}})
    assert with_stored_examples(path, stored) == result.model_copy(update={"examples_sha256": stored.examples_sha256})
    assert with_stored_examples(path, stored).per_example == [1.0, 0.0, 1.0]
    assert stored.ci95 == (0.78, 0.82)
    assert (stored.higher_is_better, stored.main_score_label, stored.plot) == (True, "accuracy", "label-curve")
    assert entry.results["interpolate/yelp"].reason == "encoder has no decoder"
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION == 3
    assert on_disk["format"] == "probe-leaderboard"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.examples", "board.json", "board.json.lock"]


def test_rerun_replaces_result_and_keeps_old_in_history(tmp_path):
    path = tmp_path / "board.json"
    first = make_result(score=0.7)
    second = make_result(score=0.9)
    add_result(path, make_entry(), first)
    add_result(path, make_entry(), make_result(task="smoothness"))
    add_result(path, make_entry(), second)

    entry = load(path).get_entry("yelp-pretrain-fb-lam6")
    assert entry.results["few-label/yelp"] == second
    assert entry.history == [first]
    assert entry.history[0].main_score == 0.7
    assert set(entry.results) == {"few-label/yelp", "smoothness/yelp"}


def test_same_id_with_other_weights_or_data_is_refused(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, make_entry(), make_result())
    with pytest.raises(LeaderboardError, match="weights"):
        add_result(path, make_entry(sha=SHA_B), make_result(task="smoothness"))
    with pytest.raises(LeaderboardError, match="dataset 'yelp'"):
        add_result(path, make_entry(dataset_hashes={"yelp": "e" * 64}), make_result())
    assert list(load(path).get_entry("yelp-pretrain-fb-lam6").results) == ["few-label/yelp"]


def _add_many(path, writer, count):
    for index in range(count):
        values = [float((writer * count + index) >> bit & 1) for bit in range(8)]  # distinct for every result
        add_result(path, make_entry(f"writer{writer}-{index}"), with_examples(values, f"ids-{writer}-{index}"))


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "board.json"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_add_many, args=(path, writer, 20)) for writer in (0, 1)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    board = load(path)
    expected = {f"writer{writer}-{index}" for writer in (0, 1) for index in range(20)}
    assert set(board.entries) == expected
    # Every result's per-example file is there, whole, and holds that result's values.
    for entry_id, entry in board.entries.items():
        writer, index = map(int, entry_id.removeprefix("writer").split("-"))
        number = writer * 20 + index
        values = load_examples(path, entry.results["few-label/yelp"]).per_example
        assert values == [float(number >> bit & 1) for bit in range(8)]
    sidecars = sorted((tmp_path / "board.examples").iterdir())
    assert len(sidecars) == len({entry.results["few-label/yelp"].examples_sha256 for entry in board.entries.values()})
    assert not any(name.name.startswith(".") for name in sidecars)  # no temporary file left behind


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"line \d+, column \d+"),  # truncated valid file
        ('{"foo": 1}', "not a leaderboard file"),
        ("[1, 2]", "not a leaderboard file"),
        (
            '{"format": "probe-leaderboard", "schema_version": 99, "entries": {}}',
            "schema_version 99 was written by a newer probe.*upgrade probe",
        ),
        (
            '{"format": "probe-leaderboard", "schema_version": 0, "entries": {}}',
            "unsupported schema_version 0.*re-run the tasks",
        ),
    ],
)
def test_unreadable_file_is_reported_and_left_untouched(tmp_path, content, message):
    path = tmp_path / "board.json"
    if content is None:
        add_result(path, make_entry(), make_result())
        content = path.read_text()[:-40]
    path.write_text(content)
    before = path.read_bytes()

    with pytest.raises(LeaderboardError, match=message) as caught:
        add_result(path, make_entry(), make_result(task="smoothness"))
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before
    with pytest.raises(LeaderboardError, match=re.escape(str(path))):
        load(path)


def test_invalid_entry_inside_file_names_the_field(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, make_entry(), make_result())
    data = json.loads(path.read_text())
    data["entries"]["yelp-pretrain-fb-lam6"]["results"]["few-label/yelp"]["main_score"] = "high"
    path.write_text(json.dumps(data))
    message = r"few-label/yelp\.main_score: Input should be a valid number"
    with pytest.raises(LeaderboardError, match=message):
        load(path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(status="done"), "status: Input should be 'ok' or 'not_applicable'"),
        (dict(main_score=0.5), "must equal main_score"),
        (dict(main_score=float("nan")), "main_score: Input should be a finite number"),
        (dict(main_score=True, scores={"accuracy": True}), "main_score: Input should be a valid number"),
        (dict(n_examples="3"), "n_examples: must be an integer"),
        (dict(per_example=[1, 0], n_examples=3), "n_examples"),
        (dict(per_example=["1"], n_examples=1), "per_example.0: Input should be a valid number"),
        (dict(per_seed={"recall": [0.1]}), "per_seed keys"),
        (dict(ci95=(0.9, 0.1)), "exceeds"),
        (dict(extra={"curve": np.arange(3)}), "extra: must be JSON-serialisable"),
        (dict(reason="why not"), "not_applicable"),
        (dict(plot="bar-chart"), "plot: Input should be 'label-curve'"),
    ],
)
def test_task_result_validation(overrides, message):
    with pytest.raises(ValidationError) as caught:
        make_result(**overrides)
    assert re.search(message, one_line(caught.value))


def test_unknown_fields_are_refused_in_code_and_in_files(tmp_path):
    with pytest.raises(ValidationError) as caught:
        TaskResult(**make_result().model_dump(), mainscore=1.0)
    assert one_line(caught.value) == "mainscore: Extra inputs are not permitted"
    path = tmp_path / "board.json"
    add_result(path, make_entry(), make_result())
    data = json.loads(path.read_text())
    data["entries"]["yelp-pretrain-fb-lam6"]["results"]["few-label/yelp"]["mainscore"] = 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(LeaderboardError, match=r"few-label/yelp\.mainscore: Extra inputs are not permitted"):
        load(path)


# Bootstrap


def test_bootstrap_ci_of_constant_is_the_constant():
    assert bootstrap_ci(np.full(50, 0.75)) == (0.75, 0.75)


def test_bootstrap_ci_hand_checked():
    # Means of resamples of [0, 1] are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4,
    # so the 2.5% and 97.5% percentiles are 0 and 1.
    assert bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)


def test_bootstrap_ci_matches_normal_theory():
    values = np.random.default_rng(1).normal(size=400)
    lo, hi = bootstrap_ci(values, n_resamples=2000)
    half_width = 1.96 * values.std() / np.sqrt(values.size)
    assert lo < values.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half_width, rel=0.1)


def test_bootstrap_is_reproducible_and_seeded():
    values = np.random.default_rng(2).random(100)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_paired_diff_of_identical_systems_is_zero():
    a = np.random.default_rng(0).integers(0, 2, size=200)
    assert paired_bootstrap_diff(a, a) == (0.0, 0.0, 0.0)


def test_paired_diff_of_shifted_system_is_exact():
    a = np.random.default_rng(0).integers(0, 2, size=200).astype(float)
    assert paired_bootstrap_diff(a, a + 1) == (1.0, 1.0, 1.0)


def test_paired_diff_hand_checked():
    # Differences [1, 0, 0, 0]: a resample's mean is k/4 with k ~ Binomial(4, 1/4);
    # P(k = 0) = 0.32 > 2.5% and P(k >= 3) = 0.05 > 2.5% > P(k = 4) = 0.004.
    assert paired_bootstrap_diff([0, 0, 0, 0], [1, 0, 0, 0]) == (0.25, 0.0, 0.75)


def test_bootstrap_needs_two_values():
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_ci([1.0])
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_diff([1, 2], [1, 2, 3])


# Comparison


def board_with(tmp_path, results_a, results_b):
    path = tmp_path / "board.json"
    for result in results_a:
        add_result(path, make_entry("A"), result)
    for result in results_b:
        add_result(path, make_entry("B", sha=SHA_B), result)
    return load(path)


def test_compare_is_paired_when_example_sets_match(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, size=300)
    b = np.where(rng.random(300) < 0.2, 1, a)  # B fixes some of A's errors
    board = board_with(tmp_path, [with_examples(a, "ids")], [with_examples(b, "ids")])

    [comparison] = compare_entries(board, "A", "B")
    assert comparison.paired
    assert comparison.task_key == "few-label/yelp"
    assert comparison.diff == pytest.approx(b.mean() - a.mean())
    assert 0 < comparison.lo <= comparison.diff <= comparison.hi


def test_compare_is_unpaired_when_example_sets_differ(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, size=300), rng.integers(0, 2, size=300)
    board = board_with(tmp_path, [with_examples(a, "ids-1")], [with_examples(b, "ids-2")])

    [comparison] = compare_entries(board, "A", "B")
    assert not comparison.paired
    assert comparison.lo < comparison.diff < comparison.hi
    assert "unpaired" in comparison.note


def test_compare_falls_back_to_seeds_then_to_no_interval(tmp_path):
    seeded = [
        make_result(score=mean, scores={"accuracy": mean}, per_seed={"accuracy": seeds})
        for mean, seeds in [(0.8, [0.78, 0.8, 0.82]), (0.85, [0.84, 0.85, 0.86])]
    ]
    board = board_with(tmp_path, [seeded[0], make_result(task="smoothness")],
                       [seeded[1], make_result(task="smoothness", score=0.9)])

    by_task = {c.task_key: c for c in compare_entries(board, "A", "B")}
    seeds = by_task["few-label/yelp"]
    assert not seeds.paired and "per-seed" in seeds.note
    assert seeds.lo <= 0.05 <= seeds.hi
    bare = by_task["smoothness/yelp"]
    assert bare.lo is None and bare.hi is None and "no interval" in bare.note
    assert bare.diff == pytest.approx(0.1)


def test_compare_unknown_entry_lists_known_ones(tmp_path):
    board = board_with(tmp_path, [make_result()], [make_result()])
    with pytest.raises(LeaderboardError, match="unknown entry 'C'; known entries: A, B"):
        compare_entries(board, "A", "C")


# Table and page


@pytest.fixture
def board(tmp_path):
    path = tmp_path / "board.json"
    add_result(path, make_entry("A"), make_result(score=0.7))
    add_result(path, make_entry("A"), make_result(task="smoothness", score=0.2))
    add_result(path, make_entry("B", sha=SHA_B), make_result(score=0.9))
    add_result(path, make_entry("B", sha=SHA_B), TaskResult.not_applicable(
        task="smoothness", dataset="yelp", split="test",
        main_score_name="accuracy", reason="deterministic encoder",
    ))
    add_result(path, make_entry("C", sha="c" * 64), make_result(dataset="sst2", score=0.6))
    return load(path)


def test_show_table_columns_and_default_order(board):
    columns, rows = show_table(board)
    assert columns == ["entry", "few-label/sst2", "few-label/yelp", "smoothness/yelp"]
    assert rows == [
        ["A", None, 0.7, 0.2],
        ["B", None, 0.9, "n/a"],
        ["C", 0.6, None, None],
    ]


def test_show_table_sorts_with_missing_scores_last(board):
    _, rows = show_table(board, sort_by="few-label/yelp")
    assert [row[0] for row in rows] == ["B", "A", "C"]
    _, rows = show_table(board, sort_by="few-label/yelp", descending=False)
    assert [row[0] for row in rows] == ["A", "B", "C"]
    _, rows = show_table(board, sort_by="smoothness/yelp", descending=False)
    assert [row[0] for row in rows] == ["A", "B", "C"]


def test_show_table_filters_by_task_and_dataset(board):
    columns, rows = show_table(board, tasks=["few-label"], dataset="yelp")
    assert columns == ["entry", "few-label/yelp"]
    assert [row[0] for row in rows] == ["A", "B"]
    columns, rows = show_table(board, tasks="smoothness")
    assert columns == ["entry", "smoothness/yelp"]
    assert rows == [["A", 0.2], ["B", "n/a"]]


def test_show_table_rejects_unknown_names(board):
    message = "unknown sort column 'bleu'; columns: entry, few-label"
    with pytest.raises(LeaderboardError, match=message):
        show_table(board, sort_by="bleu")
    with pytest.raises(LeaderboardError, match="no results for task 'few-labels'"):
        show_table(board, tasks=["few-labels"])


def test_format_table(board):
    text = format_table(*show_table(board, dataset="yelp"))
    assert text.splitlines() == [
        "entry  few-label/yelp  smoothness/yelp",
        "-----  --------------  ---------------",
        "A              0.7000           0.2000",
        "B              0.9000              n/a",
    ]


def test_render_html_embeds_plots_and_escapes_text(tmp_path):
    path = tmp_path / "board.json"
    # Each result says which plot it wants (the task's metadata, copied by the runner).
    add_result(path, make_entry("enc<1>"), make_result(
        plot="label-curve", extra={"curve": {"10": 0.5, "100": 0.7, "1000": 0.8}}))
    add_result(path, make_entry("enc-2", sha=SHA_B), make_result(
        plot="label-curve", extra={"curve": {"10": 0.6, "100": 0.75}}))
    add_result(path, make_entry("enc-2", sha=SHA_B), make_result(
        task="noisy-recon", main_score_name="loss", scores={"loss": 2.0}, score=2.0,
        plot="k-curve", extra={"curve": {"0": 1.0, "1": 2.0, "2": 3.0}}))
    add_result(path, make_entry("enc-2", sha=SHA_B), make_result(
        task="smoothness", plot="smoothness-scatter", extra={"scatter": [[0.1, 1], [0.5, 3], [0.9, 6]]}))
    add_result(path, make_entry("enc-2", sha=SHA_B), make_result(
        task="interpolation", plot="interpolations", extra={
            "interpolations": [{"kind": "posterior", "source": "the food was <b>great</b>",
                                "target": "the food was bad",
                                "sentences": ["the food was <b>great</b>", "the food was bad"]}],
        }))
    out = render_html(load(path), tmp_path / "site" / "board.html")

    page = out.read_text()
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert len(images) == 3  # few-label, noisy-recon, smoothness
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "enc&lt;1&gt;" in page and "enc<1>" not in page
    assert "enc-2" in page
    assert "the food was &lt;b&gt;great&lt;/b&gt;" in page
    assert "<b>" not in page


def test_render_html_without_plot_data_leaves_notes(board, tmp_path):
    page = render_html(board, tmp_path / "board.html").read_text()
    assert "<img" not in page
    assert "No scores against the number of labels on this board." in page
    assert "No interpolations on this board." in page
    assert "<td>A<br><small>† trained with epochs 10</small></td>" in page and "n/a" in page
