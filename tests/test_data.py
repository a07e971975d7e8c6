import gzip

import numpy as np
import pytest

from vae.data import LengthBucketBatcher, build_tokenizer, load_corpus
from vae.data.tokenizer import decode, encode
from vae.errors import DataError


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


def test_buckets_group_lengths_so_padding_is_small(data_dir):
    corpus = load_corpus("yelp", "valid", data_dir)
    tokenizer = build_tokenizer(corpus.sentences)
    batcher = LengthBucketBatcher(encode(tokenizer, corpus.sentences), batch_size=32)
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
