import gzip

import numpy as np
import pytest

from vae.data import EqualLengthBatcher, build_tokenizer, load_corpus
from vae.data.batching import equal_length_batches
from vae.data.corpus import locate
from vae.data.tokenizer import decode, encode
from probe_common.errors import DataError


def write_corpus(folder, name, files: dict[str, bytes]):
    target = folder / name
    target.mkdir(parents=True)
    for file_name, content in files.items():
        (target / file_name).write_bytes(content)
    return target


def test_reads_gzipped_tsv_with_labels(tmp_path):
    content = b"0\tthe food was bad .\n1\tgreat  place !\n"
    write_corpus(tmp_path, "yelp", {"train.tsv.gz": gzip.compress(content)})
    corpus = load_corpus("yelp", "train", tmp_path)
    assert corpus.sentences == ["the food was bad .", "great place !"]
    assert corpus.labels == [0, 1]


def test_a_folder_path_works_without_the_registry(tmp_path):
    folder = write_corpus(tmp_path, "mine", {"valid.txt": b"a b c\nd e\n"})
    corpus = load_corpus(str(folder), "valid")
    assert corpus.sentences == ["a b c", "d e"] and corpus.labels is None


@pytest.mark.parametrize(
    "file_name, content, message, line",
    [
        ("train.tsv", b"0\tgood\n1 no tab here\n", "label<TAB>sentence", 2),
        ("train.tsv", b"0\tgood\nx\tbad label\n", "integer label", 2),
        ("train.tsv", b"0\tok\n1\tfine\n0\t\xff\xfe broken\n", "not valid UTF-8", 3),
        ("train.tsv", b"0\tok\n1\t   \n", "empty sentence", 2),
        ("train.tsv", b"", "file is empty", None),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, file_name, content, message, line):
    write_corpus(tmp_path, "yelp", {file_name: content})
    with pytest.raises(DataError) as error:
        load_corpus("yelp", "train", tmp_path)
    text = str(error.value)
    assert message in text and "\n" not in text
    assert f"{file_name}:{line}:" in text if line else f"{file_name}:" in text


def test_missing_split_and_missing_data_dir(tmp_path, monkeypatch):
    write_corpus(tmp_path, "snli", {"train.txt": b"a b\n"})
    with pytest.raises(DataError, match="split 'test' not found"):
        load_corpus("snli", "test", tmp_path)
    monkeypatch.delenv("PROBE_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="PROBE_DATA_DIR"):
        load_corpus("snli", "train", None)
    with pytest.raises(DataError, match="not a known dataset"):
        load_corpus("nonexistent-corpus", "train", tmp_path)


def test_data_dir_from_the_environment(tmp_path, monkeypatch):
    write_corpus(tmp_path, "ptb", {"train.txt": b" a b \n"})
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))
    assert load_corpus("ptb", "train").sentences == ["a b"]


def test_tokenizer_wraps_sentences_and_maps_unknown_words():
    tokenizer = build_tokenizer(["a b a", "c"])
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3]) == ["<pad>", "<unk>", "<s>", "</s>"]
    ids = encode(tokenizer, ["a c zzz"])[0]
    assert ids[0] == 2 and ids[-1] == 3 and ids[3] == 1  # <s> a c <unk> </s>
    assert decode(tokenizer, ids) == "a c <unk>"


def test_words_below_the_minimum_count_read_as_unk():
    # counts: a 3, b 2, c 1
    tokenizer = build_tokenizer(["a b a", "c a b"], min_count=2)
    assert set(tokenizer.get_vocab()) == {"<pad>", "<unk>", "<s>", "</s>", "a", "b"}
    assert decode(tokenizer, encode(tokenizer, ["a b c"])[0]) == "a b <unk>"
    assert len(build_tokenizer(["a b a", "c a b"], min_count=3)) == 5  # a alone
    with pytest.raises(ValueError, match="min_count"):
        build_tokenizer(["a"], min_count=0)


def test_buckets_group_lengths_so_padding_is_small(data_dir):
    corpus = load_corpus("yelp", "valid", data_dir)
    tokenizer = build_tokenizer(corpus.sentences)
    batcher = EqualLengthBatcher(encode(tokenizer, corpus.sentences), batch_size=32)
    real = padded = 0
    seen = []
    for batch in batcher.epoch(np.random.default_rng(0)):
        real += int(batch.attention_mask.sum())
        padded += batch.input_ids.numel()
        seen.extend(batch.index.tolist())
    assert sorted(seen) == list(range(len(corpus)))  # every sentence exactly once
    assert real / padded > 0.99
    # the same seed gives the same batch order
    first = [b.index[0].item() for b in batcher.epoch(np.random.default_rng(5))]
    again = [b.index[0].item() for b in batcher.epoch(np.random.default_rng(5))]
    assert first == again


# ---- what a dataset is: a name, a folder, or a train file with explicit valid/test files -----------------

def test_a_single_file_is_only_a_train_split(tmp_path):
    train = tmp_path / "mine.txt"
    train.write_bytes(b"a b c\nd e\n")
    assert load_corpus(str(train), "train").sentences == ["a b c", "d e"]
    for split in ("valid", "test"):
        with pytest.raises(DataError) as error:
            load_corpus(str(train), split)  # never the training sentences again
        text = str(error.value)
        assert text.startswith(f"{train}:") and "--valid FILE --test FILE" in text and "\n" not in text


def test_a_single_file_with_explicit_valid_and_test_files(tmp_path):
    files = {"train.tsv": b"0\ttrain one\n", "v.tsv": b"1\tvalid one\n", "t.tsv": b"0\ttest one\n"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    split_files = {"valid": tmp_path / "v.tsv", "test": str(tmp_path / "t.tsv")}
    test = load_corpus(str(tmp_path / "train.tsv"), "test", split_files=split_files)
    assert (test.name, test.path, test.sentences, test.labels) == ("train", tmp_path / "t.tsv", ["test one"], [0])
    assert load_corpus(str(tmp_path / "train.tsv"), "valid", split_files=split_files).sentences == ["valid one"]
    assert locate(str(tmp_path / "train.tsv"), "train", split_files=split_files)[1] == tmp_path / "train.tsv"


def test_an_explicit_split_file_wins_and_needs_no_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_DATA_DIR", raising=False)
    (tmp_path / "mine.tsv").write_bytes(b"1\tmine\n")
    corpus = load_corpus("yelp", "test", split_files={"test": tmp_path / "mine.tsv"})
    assert (corpus.name, corpus.sentences, corpus.labels) == ("yelp", ["mine"], [1])


@pytest.mark.parametrize(
    "split_files, message",
    [
        ({"test": "missing.txt"}, "test file not found"),
        ({"test": "labelled.tsv"}, "must be a .txt file"),  # a .tsv read as text would keep its labels as words
        ({"dev": "other.txt"}, "unknown split 'dev'"),
    ],
)
def test_bad_split_files_are_one_line_errors(tmp_path, split_files, message):
    (tmp_path / "train.txt").write_bytes(b"a b\n")
    (tmp_path / "labelled.tsv").write_bytes(b"0\ta b\n")
    (tmp_path / "other.txt").write_bytes(b"a b\n")
    split_files = {split: tmp_path / name for split, name in split_files.items()}
    with pytest.raises(DataError, match=message) as error:
        load_corpus(str(tmp_path / "train.txt"), "test", split_files=split_files)
    assert "\n" not in str(error.value)


# ---- paths are read literally -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, sibling", [("glob[1]", "glob1"), ("star*", "starX"), ("what?", "whatX")])
def test_paths_are_not_glob_patterns(tmp_path, name, sibling):
    write_corpus(tmp_path, sibling, {"train.txt": b"the sibling\n"})
    folder = write_corpus(tmp_path, name, {"train.txt": b"the folder itself\n"})
    assert load_corpus(str(folder), "train").sentences == ["the folder itself"]
    (tmp_path / f"{sibling}.txt").write_bytes(b"the sibling file\n")
    (tmp_path / f"{name}.txt").write_bytes(b"the file itself\n")
    assert load_corpus(str(tmp_path / f"{name}.txt"), "train").sentences == ["the file itself"]


def test_a_path_that_datasets_cannot_read_is_a_one_line_error(tmp_path):
    folder = write_corpus(tmp_path, "a::b", {"train.txt": b"a b\n"})  # datasets reads :: as a chain of URLs
    with pytest.raises(DataError, match="::") as error:
        load_corpus(str(folder), "train")
    assert "\n" not in str(error.value)


# ---- what a line is --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "file_name, content, sentences, labels",
    [
        ("train.txt", b"\xef\xbb\xbfhello world\nbye\n", ["hello world", "bye"], None),  # byte-order mark
        ("train.tsv", b"\xef\xbb\xbf1\thello\n0\tbye\n", ["hello", "bye"], [1, 0]),
        ("train.txt", b"a b\n\n", ["a b"], None),  # a blank last line
        ("train.tsv", b"0\ta b\n1\tc\n \n\n", ["a b", "c"], [0, 1]),  # blank last lines
        ("train.txt", b"a b\r\nc\r\n", ["a b", "c"], None),  # Windows line ends
        ("train.txt", b"a b\nc\r", ["a b", "c"], None),  # a carriage return that ends the file
        ("train.txt", b"last line without a line break", ["last line without a line break"], None),
    ],
)
def test_lines_that_are_accepted(tmp_path, file_name, content, sentences, labels):
    write_corpus(tmp_path, "mine", {file_name: content})
    corpus = load_corpus(str(tmp_path / "mine"), "train")
    assert corpus.sentences == sentences and corpus.labels == labels
    vocabulary = build_tokenizer(corpus.sentences).get_vocab()
    assert all("\ufeff" not in word for word in vocabulary)  # the byte-order mark is no part of a word


@pytest.mark.parametrize(
    "file_name, content, message, line",
    [
        ("train.tsv", b"0\tok\n\xc2\xb2\tsuperscript two\n", "integer label", 2),  # "²".isdigit(), int("²") fails
        ("train.tsv", b"0\tok\n\xd9\xa1\tarabic-indic one\n", "integer label", 2),  # int() reads it, we do not
        ("train.tsv", b"0\tgood\r\n1\tfine\r\n0\tbad\rline\r\n", "carriage return", 3),
        ("train.txt", b"a b\r\nc d\r\ne\rf\r\ng\r\n", "carriage return", 3),
        ("train.txt", b"a\n\nb\n", "empty sentence", 2),  # only the last lines may be blank
        ("train.txt", b"a\n  \n\nb\n\n", "empty sentence", 2),
        ("train.txt", b"\n \n", "file is empty", None),
        ("train.txt.gz", b"not gzip data\n", "not a valid gzip file", None),
    ],
)
def test_bad_lines_are_reported_where_an_editor_shows_them(tmp_path, file_name, content, message, line):
    folder = write_corpus(tmp_path, "mine", {file_name: content})
    with pytest.raises(DataError) as error:
        load_corpus(str(folder), "train")
    text = str(error.value)
    assert message in text and "\n" not in text
    assert text.startswith(f"{folder / file_name}:{line}:" if line else f"{folder / file_name}:")
    if message == "carriage return":  # the line named is the one holding the bare \r (lines end at \n)
        assert b"\r" in content.split(b"\n")[line - 1].rstrip(b"\r")


def test_train_vae_takes_a_single_file_only_with_valid_and_test_files(tmp_path):
    from typer.testing import CliRunner

    from probe.cli import app
    from vae.train import Trainer, TrainConfig

    for name in ("train.txt", "v.txt", "t.txt"):
        (tmp_path / name).write_text(f"a sentence of {name}\nanother one\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train-vae", str(tmp_path / "train.txt"), "--method", "vae", "--preset", "tiny",
                                      "--device", "cpu", "--run-dir", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 2 and "--valid FILE --test FILE" in result.output, result.output
    config = TrainConfig(dataset=str(tmp_path / "train.txt"), valid=str(tmp_path / "v.txt"),
                         test=str(tmp_path / "t.txt"), method="vae", preset="tiny", device="cpu",
                         run_dir=str(tmp_path / "run"), progress=False)
    trainer = Trainer(config, log=lambda message: None)
    assert trainer.data_files == {split: str(tmp_path / name)
                                  for split, name in (("train", "train.txt"), ("valid", "v.txt"), ("test", "t.txt"))}


def test_equal_length_batches_cut_each_length_in_file_order():
    # Lengths 3, 1, 3, 2, 1, 3, 3 in batches of at most 3: length 1 (rows 1, 4), 2 (row 3), 3 (rows 0, 2, 5, then 6).
    batches = equal_length_batches(np.array([3, 1, 3, 2, 1, 3, 3]), batch_size=3)
    assert [batch.tolist() for batch in batches] == [[1, 4], [3], [0, 2, 5], [6]]
