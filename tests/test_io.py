"""Readers on small files written into tmp_path (well-formed and malformed), and count_labels."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate import count_labels
from curate.exceptions import CurateValueError
from curate.io import (
    read_coco,
    read_conll,
    read_conll_sentences,
    read_labels,
    read_table,
    read_voc,
    read_yolo,
)
from curate.io._yolo import read_yaml_names
from curate.labels import LabelTable
from curate.stats import _compute_counts, _merge_counts, _update_values


# ---------------------------------------------------------------- COCO
def _coco(tmp_path, doc, name="instances.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


COCO = {
    "images": [{"id": 10}, {"id": 11}, {"id": 12}],
    "categories": [{"id": 3, "name": "car"}, {"id": 1, "name": "person"}],
    "annotations": [
        {"image_id": 10, "category_id": 1}, {"image_id": 10, "category_id": 1},
        {"image_id": 12, "category_id": 3, "iscrowd": 1}, {"image_id": 12, "category_id": 1},
    ],
}


def test_read_coco(tmp_path):
    t = read_coco(_coco(tmp_path, COCO))
    assert t.classes == ("person", "car")  # category id order
    assert t.sample_ids.tolist() == [10, 11, 12]
    assert t.matrix.toarray().tolist() == [[2, 0], [0, 0], [1, 1]]  # image 11 is empty
    assert read_coco(_coco(tmp_path, COCO), iscrowd="exclude").counts.tolist() == [3, 0]
    assert read_coco(_coco(tmp_path, COCO), iscrowd="only").counts.tolist() == [0, 1]
    assert read_labels(_coco(tmp_path, COCO)).counts.tolist() == [3, 1]


@pytest.mark.parametrize(("doc", "match"), [
    ("{not json", r"is not valid JSON"),
    ([1, 2], r"holds a JSON list"),
    ({"images": [], "categories": [], "annotations": []}, r"has no images \(0 samples\)"),
    ({"categories": []}, r"has no 'images' list"),
    ({**COCO, "annotations": [{"image_id": 99, "category_id": 1}]},
     r"annotations\[0\] has image_id 99, not an id in 'images'"),
    ({**COCO, "annotations": [{"image_id": 10, "category_id": 7}]},
     r"annotations\[0\] has category_id 7, not an id in categories=\[1, 3\]"),
    ({**COCO, "annotations": [{"image_id": 10}]}, r"annotations\[0\] has no 'category_id'"),
    ({**COCO, "categories": [{"id": 1}]}, r"categories\[0\] has no 'name' field"),
])
def test_read_coco_errors(tmp_path, doc, match):
    with pytest.raises(CurateValueError, match=match):
        read_coco(_coco(tmp_path, doc))


def test_read_coco_bad_option_and_missing_file(tmp_path):
    with pytest.raises(CurateValueError, match=r"'iscrowd' parameter of read_coco"):
        read_coco(_coco(tmp_path, COCO), iscrowd="yes")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_coco(tmp_path / "nope.json")


# ---------------------------------------------------------------- VOC
def _voc_xml(*objects):
    body = "".join(
        f"<object><name>{n}</name><difficult>{d}</difficult><bndbox/></object>" for n, d in objects
    )
    return f"<annotation><filename>x.jpg</filename>{body}</annotation>"


def test_read_voc(tmp_path):
    ann = tmp_path / "Annotations"
    ann.mkdir()
    (ann / "000002.xml").write_text(_voc_xml(("dog", 0), ("dog", 0), ("cat", 1)))
    (ann / "000001.xml").write_text(_voc_xml())
    t = read_voc(tmp_path)  # VOC root with Annotations/
    assert t.sample_ids.tolist() == ["000001", "000002"]
    assert t.counts.to_dict() == {"dog": 2}
    assert read_voc(ann, difficult=True).counts.to_dict() == {"cat": 1, "dog": 2}
    assert read_labels(tmp_path).counts.to_dict() == {"dog": 2}


@pytest.mark.parametrize(("xml", "match"), [
    ("<annotation><object>", r"a.xml is not valid XML"),
    ("<annotation><object><difficult>0</difficult></object></annotation>",
     r"a.xml: object 0 has no <name>"),
    ("<annotation><object><name>a</name><difficult>x</difficult></object></annotation>",
     r"has <difficult>x</difficult>; use 0 or 1"),
])
def test_read_voc_errors(tmp_path, xml, match):
    (tmp_path / "a.xml").write_text(xml)
    with pytest.raises(CurateValueError, match=match):
        read_voc(tmp_path)


def test_read_voc_empty_folder(tmp_path):
    with pytest.raises(CurateValueError, match=r"holds no .xml files \(0 samples\)"):
        read_voc(tmp_path)


# ---------------------------------------------------------------- YOLO
def _yolo(tmp_path):
    lab = tmp_path / "labels" / "train"
    lab.mkdir(parents=True)
    (lab / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n0 0.1 0.1 0.1 0.1\n")
    (lab / "b.txt").write_text("\n")
    return tmp_path / "labels"


@pytest.mark.parametrize("yaml_text", [
    "path: x\nnames: [person, 'bi cycle', car]\n",
    "names:\n  - person\n  - bi cycle\n  - car\nnc: 3\n",
    "names:\n  0: person\n  1: \"bi cycle\"\n  2: car\n",
])
def test_read_yolo_data_yaml_forms(tmp_path, yaml_text):
    (tmp_path / "data.yaml").write_text(yaml_text)
    t = read_yolo(_yolo(tmp_path), data_yaml=tmp_path / "data.yaml")
    assert t.classes == ("person", "bi cycle", "car")
    assert t.matrix.toarray().tolist() == [[2, 0, 1], [0, 0, 0]]
    assert t.sample_ids.tolist() == ["train/a", "train/b"]
    assert read_yaml_names(tmp_path / "data.yaml") in (["person", "bi cycle", "car"],
                                                       {0: "person", 1: "bi cycle", 2: "car"})


def test_read_yolo_yaml_names_with_commas_quotes_and_a_bom(tmp_path):
    # a quoted name with a comma, a '#' inside quotes, and a BOM (the hand-written parser
    # this replaced split "'stop, sign'" into two classes and shifted every later id)
    (tmp_path / "data.yaml").write_bytes(
        "\ufeffnames: ['traffic light', 'stop, sign', person, \"no #3\"]\n".encode())
    lab = tmp_path / "labels"
    lab.mkdir()
    (lab / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n")
    t = read_yolo(lab, data_yaml=tmp_path / "data.yaml")
    assert t.classes == ("traffic light", "stop, sign", "person", "no #3")
    assert t.counts.tolist() == [1, 1, 1, 0]


def test_read_yolo_classes_txt_with_bom_and_crlf(tmp_path):
    lab = tmp_path / "labels"
    lab.mkdir()
    (lab / "a.txt").write_text("1 0.5 0.5 0.1 0.1\n")
    (lab / "classes.txt").write_bytes("\ufeffcat\r\ndog\r\n".encode())
    assert read_yolo(lab).classes == ("cat", "dog")


@pytest.mark.parametrize("names", [[], {}])
def test_read_yolo_empty_names_is_a_clear_error(tmp_path, names):
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(CurateValueError, match="class names are empty"):
        read_yolo(tmp_path, names=names)
    (tmp_path / "classes.txt").write_text("\n")
    with pytest.raises(CurateValueError, match="class names are empty"):
        read_yolo(tmp_path)


def test_read_yolo_names_and_classes_txt(tmp_path):
    labels = _yolo(tmp_path)
    assert read_yolo(labels, names={0: "p", 1: "b", 2: "c"}).counts.tolist() == [2, 0, 1]
    (labels / "classes.txt").write_text("p\nb\nc\n")
    assert read_yolo(labels).classes == ("p", "b", "c")
    assert read_labels(labels, format="yolo").n_samples == 2


@pytest.mark.parametrize(("line", "match"), [
    ("x 0.5 0.5 0.1 0.1", r"a.txt:1 starts with 'x', not an integer class id"),
    ("5 0.5 0.5 0.1 0.1", r"a.txt has class id 5, not in names \(ids 0..2\)"),
    ("1 0.5", r"a.txt:1 has 2 fields"),
])
def test_read_yolo_errors(tmp_path, line, match):
    (tmp_path / "a.txt").write_text(line + "\n")
    with pytest.raises(CurateValueError, match=match):
        read_yolo(tmp_path, names=["a", "b", "c"])


def test_read_yolo_needs_names(tmp_path):
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(CurateValueError, match="needs the class names"):
        read_yolo(tmp_path)
    (tmp_path / "data.yaml").write_text("nc: 2\n")
    with pytest.raises(CurateValueError, match="has no 'names:'"):
        read_yolo(tmp_path, data_yaml=tmp_path / "data.yaml")


# ---------------------------------------------------------------- CoNLL
CONLL = (
    "-DOCSTART- -X- -X- O\n\n"
    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\n\n"
    "Peter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\n\t\n"
    "-DOCSTART- -X- -X- O\n\nBRUSSELS NNP B-NP B-LOC\n"
)


def test_read_conll(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text(CONLL)
    tok = read_conll(p)
    assert tok.n_samples == 3 and tok.background == "O"
    assert tok.counts.to_dict() == {"B-LOC": 1, "B-MISC": 1, "B-ORG": 1, "I-PER": 2, "O": 2}
    ent = read_conll(p, level="entity")  # I-PER start is repaired as seqeval does
    assert ent.counts.to_dict() == {"LOC": 1, "MISC": 1, "ORG": 1, "PER": 1}
    assert ent.background is None
    sents = read_conll_sentences(p, columns=(0, 1, -1))
    assert sents[1] == (["Peter", "Blackburn"], ["NNP", "NNP"], ["I-PER", "I-PER"])
    assert len(read_conll_sentences(p, docstart=True)) == 5
    assert read_labels(p, format="conll", level="entity").counts.sum() == 4


def test_read_conll_errors(tmp_path):
    p = tmp_path / "bad.conll"
    p.write_text("John B-PER\nran\n")
    with pytest.raises(CurateValueError, match=r"bad.conll:2 has 1 field\(s\)"):
        read_conll(p)
    p.write_text("John B-PER\nran Q-X\n")
    with pytest.raises(CurateValueError, match=r"tags\[0\]\[1\] is 'Q-X'"):
        read_conll(p)
    p.write_text("\n\n")
    with pytest.raises(CurateValueError, match=r"holds no sentences \(0 samples\)"):
        read_conll(p)


# ---------------------------------------------------------------- tabular
def test_read_table_formats_agree(tmp_path):
    labels = [["cat", "dog", "dog"], [], ["bird"]]
    ids = ["a", "b", "c"]
    pq.write_table(pa.table({"id": ids, "labels": labels}), tmp_path / "l.parquet")
    pd.DataFrame({"id": ids, "labels": labels}).to_json(tmp_path / "l.jsonl", orient="records",
                                                       lines=True)
    (tmp_path / "l.csv").write_text("id,labels\na,cat|dog|dog\nb,\nc,bird\n")
    ref = LabelTable.from_labels(labels, sample_ids=ids)
    for t in (read_table(tmp_path / "l.parquet", id_column="id"),
              read_table(tmp_path / "l.jsonl", column="labels", id_column="id"),
              read_table(tmp_path / "l.csv", column="labels", id_column="id", delimiter="|"),
              read_labels(tmp_path / "l.parquet", column="labels")):
        assert t.classes == ref.classes and (t.matrix != ref.matrix).nnz == 0
    assert read_table(tmp_path / "l.csv", id_column="id", delimiter="|").sample_ids[0] == "a"


def test_read_table_scalar_csv(tmp_path):
    (tmp_path / "y.csv").write_text("label\nb\na\nb\n")
    t = read_table(tmp_path / "y.csv")
    assert t.counts.to_dict() == {"a": 1, "b": 2} and t.level == "sample"


@pytest.mark.parametrize(("content", "kwargs", "match"), [
    ("x\n1\n", {"column": "labels"}, r"column 'labels' is not in t.csv \(columns: \['x'\]\)"),
    ("x,z\n1,2\n", {}, r"has none of the usual labels columns"),
    ("label\na\n\n", {"column": "label", "format": "jsonl"}, r"is not valid JSONL"),
    ("label\na\n", {"format": "xml"}, r"The 'format' parameter of read_table must be one of"),
    ("id,label\n1,a\n2,\n", {}, r"frame\['label'\]\[1\] is missing"),
    ("label\n", {}, r"frame\['label'\] is empty \(0 samples\)"),
])
def test_read_table_errors(tmp_path, content, kwargs, match):
    (tmp_path / "t.csv").write_text(content)
    with pytest.raises(CurateValueError, match=match):
        read_table(tmp_path / "t.csv", **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "match"), [
    ("a.xyz", {}, r"cannot tell the format of 'a.xyz'"),
    ("a.csv", {"format": "excel"}, r"The 'format' parameter of read_labels must be one of"),
    ("a.conll", {"column": "x"}, r"column applies to parquet/csv/jsonl only"),
])
def test_read_labels_errors(tmp_path, name, kwargs, match):
    (tmp_path / name).write_text("{}")
    with pytest.raises(CurateValueError, match=match):
        read_labels(tmp_path / name, **kwargs)


# ---------------------------------------------------------------- streaming
def test_count_labels_equals_whole_load(tmp_path, rng):
    names = np.array([f"c{k}" for k in range(30)], dtype=object)
    lengths = rng.integers(0, 7, size=3000)
    flat = names[rng.zipf(1.6, size=lengths.sum()) % 30]
    labels = np.split(flat, np.cumsum(lengths)[:-1])
    tbl = pa.table({"labels": [list(x) for x in labels], "one": flat[: len(lengths)].tolist(),
                    "num": rng.integers(0, 12, size=3000)})
    folder = tmp_path / "ds"
    folder.mkdir()
    pq.write_table(tbl.slice(0, 1000), folder / "part0.parquet", row_group_size=300)
    pq.write_table(tbl.slice(1000), folder / "part1.parquet", row_group_size=700)
    for column in ("labels", "one", "num"):
        whole = LabelTable.from_frame(tbl, column).counts
        whole = whole[whole > 0]
        for batch_size in (1, 97, 100_000):
            if batch_size == 1 and column != "labels":
                continue
            got = count_labels(folder, column=column, batch_size=batch_size, progress=False)
            pd.testing.assert_series_equal(got, whole, check_names=False)


@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=5), min_size=1,
                max_size=40), st.integers(1, 10))
def test_update_values_chunked_equals_one_shot(labels, n_chunks):
    arr = pa.array(labels, type=pa.list_(pa.string()))
    bounds = np.linspace(0, len(labels), n_chunks + 1).astype(int)
    parts = [_update_values(arr.slice(a, b - a)) for a, b in itertools.pairwise(bounds)]
    one = _update_values(arr)
    assert _compute_counts(_merge_counts(parts)).to_dict() == \
        _compute_counts(_merge_counts([one])).to_dict()
    dict_arr = pa.ListArray.from_arrays(arr.offsets, arr.flatten().dictionary_encode())
    assert _compute_counts(_update_values(dict_arr)).to_dict() == \
        _compute_counts(_merge_counts([one])).to_dict()


def test_count_labels_errors(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"l": [["a", None]]}), p)
    with pytest.raises(CurateValueError, match="missing label"):
        count_labels(p, column="l", progress=False)
    with pytest.raises(CurateValueError, match=r"column 'm' is not in x.parquet"):
        count_labels(p, column="m", progress=False)
    with pytest.raises(CurateValueError, match=r"The 'batch_size' parameter of count_labels"):
        count_labels(p, column="l", batch_size=0)
    pq.write_table(pa.table({"l": pa.array([], type=pa.list_(pa.string()))}), p)
    with pytest.raises(CurateValueError, match="has 0 rows"):
        count_labels(p, column="l", progress=False)


def test_bench_counting_quick_smoke(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_counting.py"
    out = tmp_path / "counting.json"
    subprocess.run([sys.executable, str(script), "--quick", "--out", str(out)], check=True,
                   capture_output=True, cwd=tmp_path, timeout=300)
    doc = json.loads(out.read_text())
    assert doc["name"] == "counting" and doc["counts_equal"] is True
    assert {r[0] for r in doc["tables"][0]["rows"]} == {"curate", "pandas"}


# ---------------------------------------------------------------- issue 12 readers
def _box(cid):
    return f"{cid} 0.5 0.5 0.2 0.2\n"


def test_ultralytics_layout_root_and_data_yaml(tmp_path):
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [cat, dog]\n")
    for split, text in (("train", _box(0) + _box(1)), ("val", _box(1))):
        (tmp_path / "labels" / split).mkdir(parents=True)
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split / "a.txt").write_text(text)
    (tmp_path / "labels" / "train" / "._a.txt").write_bytes(b"\x00\x05\x16\x07")  # macOS fork
    for source in (tmp_path, tmp_path / "data.yaml"):
        t = read_labels(source)
        assert t.classes == ("cat", "dog") and t.counts.tolist() == [1, 2]
        assert t.sample_ids.tolist() == ["train/a", "val/a"]
    assert read_labels(tmp_path, split="val").counts.tolist() == [0, 1]
    with pytest.raises(CurateValueError, match=r"split 'test' has no folder .* \['train', 'val'\]"):
        read_labels(tmp_path, split="test")


def _voc_names(*names):
    return "<annotation>" + "".join(f"<object><name>{n}</name></object>" for n in names) + \
        "</annotation>"


def test_voc_skips_macos_forks_and_honours_split_lists(tmp_path):
    ann = tmp_path / "Annotations"
    ann.mkdir()
    (ann / "1.xml").write_text(_voc_names("dog"))
    (ann / "2.xml").write_text(_voc_names("cat", "cat"))
    (ann / "._1.xml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "val.txt").write_text("2\n")
    (tmp_path / "ImageSets" / "Main" / "bad.txt").write_text("2\n3\n")
    assert read_labels(tmp_path).counts.to_dict() == {"cat": 2, "dog": 1}
    t = read_voc(tmp_path, split="val")
    assert t.sample_ids.tolist() == ["2"] and t.counts.to_dict() == {"cat": 2}
    with pytest.raises(CurateValueError, match=r"bad.txt lists 1 image\(s\) without an annotation"):
        read_voc(tmp_path, split="bad")
    with pytest.raises(CurateValueError, match=r"split 'train' has no list .*\['bad', 'val'\]"):
        read_voc(tmp_path, split="train")


CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><labels><label><name>car</name></label><label><name>person</name></label>
</labels></task></meta>
<image id="0" name="a.jpg"><box label="person"/><polygon label="car"/><box label="person"/></image>
<image id="1" name="b.jpg"></image>
</annotations>"""


def test_cvat_export_folder_is_read_not_one_empty_sample(tmp_path):
    (tmp_path / "annotations.xml").write_text(CVAT)
    t = read_labels(tmp_path)
    assert t.classes == ("car", "person") and t.matrix.toarray().tolist() == [[1, 2], [0, 0]]
    assert t.sample_ids.tolist() == ["a.jpg", "b.jpg"]
    with pytest.raises(CurateValueError, match=r"root <annotations>.*format='cvat'"):
        read_voc(tmp_path)


def test_coco_duplicate_image_ids_are_rejected(tmp_path):
    doc = {**COCO, "images": [{"id": 10}, {"id": 11}, {"id": 10}]}
    with pytest.raises(CurateValueError, match=r"images\[2\] repeats id 10"):
        read_coco(_coco(tmp_path, doc))


def test_non_utf8_conll_is_one_error_and_reads_with_encoding(tmp_path):
    p = tmp_path / "de.conll"
    p.write_bytes("Müller B-PER\nsagt O\n".encode("latin-1"))
    with pytest.raises(CurateValueError, match=r"is not utf-8 text .*encoding="):
        read_conll(p)
    assert read_conll(p, encoding="latin-1").counts.to_dict() == {"B-PER": 1, "O": 1}


def test_dict_valued_jsonl_column_is_one_error(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text('{"labels": {"a": 1}}\n{"labels": {"b": 2}}\n')
    with pytest.raises(CurateValueError, match=r"holds objects \(dicts\), not labels"):
        read_labels(p)


def test_json_suffix_is_sniffed_coco_or_lines(tmp_path):
    from curate.io import infer_format, read_column

    (tmp_path / "p.json").write_text('{"pred": "a"}\n{"pred": "b"}\n')
    assert infer_format(tmp_path / "p.json") == "jsonl"
    assert read_column(tmp_path / "p.json", role="predictions").to_pylist() == ["a", "b"]
    assert infer_format(_coco(tmp_path, COCO)) == "coco"
    (tmp_path / "pretty.json").write_text(json.dumps(COCO, indent=2))
    assert infer_format(tmp_path / "pretty.json") == "coco"
    with pytest.raises(CurateValueError, match=r"is coco data, not a column of labels"):
        read_column(tmp_path / "pretty.json")


def test_tag_columns_are_read_as_tags_and_override_is_explicit(tmp_path):
    tags = [["B-PER", "I-PER", "O"], ["O", "O"], ["B-LOC", "O"]]
    pq.write_table(pa.table({"tags": tags}), tmp_path / "t.parquet")
    t = read_labels(tmp_path / "t.parquet")
    ref = LabelTable.from_tags(tags)  # the explicit tag constructor is the oracle
    assert t.level == "token" and t.background == "O"
    assert t.counts.to_dict() == ref.counts.to_dict()
    plain = read_labels(tmp_path / "t.parquet", level="instance")
    assert plain.level == "instance" and plain.background is None
    ent = read_labels(tmp_path / "t.parquet", level="entity")
    assert ent.counts.to_dict() == {"LOC": 1, "PER": 1}


def test_hf_tokenized_jsonl_ignore_index_and_id2label(tmp_path):
    rows = [[-100, 1, 2, 0, -100], [-100, 0, 3, -100]]
    p = tmp_path / "tok.jsonl"
    p.write_text("".join(json.dumps({"labels": r}) + "\n" for r in rows))
    t = read_labels(p)
    assert "-100" not in t.classes and t.counts.to_dict() == {"0": 2, "1": 1, "2": 1, "3": 1}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"id2label": {"0": "O", "1": "B-PER", "2": "I-PER",
                                            "3": "B-LOC", "4": "I-LOC"}}))
    named = read_labels(p, id2label=str(cfg))
    assert named.classes == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")  # id order
    assert named.counts.tolist() == [2, 1, 1, 1, 0] and named.background == "O"
    assert named.level == "token"
    ref = LabelTable.from_token_ids(rows, id2label=str(cfg))
    assert (named.matrix != ref.matrix).nnz == 0


def test_string_tags_take_the_order_of_id2label(tmp_path):
    pq.write_table(pa.table({"tags": [["B-PER", "O"], ["O"]]}), tmp_path / "t.parquet")
    t = read_labels(tmp_path / "t.parquet", id2label=["O", "B-PER", "I-PER"])
    assert t.classes == ("O", "B-PER", "I-PER") and t.counts.tolist() == [2, 1, 0]


# ------------------------------------------------ one answer on every path (review cases)
@pytest.mark.parametrize("column", [
    [[1, -100, 2], [-100], [2, 2]],           # Hugging Face ids with the ignore id
    pa.array([1, -100, 2], pa.int8()),        # scalar ids
    [1.0, 2.0, 10.0, 2.0],                    # integral floats name "1", not "1.0"
    [[1.0, 2.0], [10.0]],
])
def test_count_labels_equals_read_table_on_ids_and_floats(tmp_path, column):
    p = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"labels": column}), p)
    got = count_labels(p, column="labels", progress=False)
    want = read_table(p, column="labels").counts
    assert got.to_dict() == want[want > 0].to_dict()
    assert list(got.index) == [c for c in want.index if want[c] > 0]
    assert "-100" not in got.index


def test_count_labels_refuses_non_integral_floats(tmp_path):
    p = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"labels": [1.5, 2.0]}), p)
    with pytest.raises(CurateValueError, match=r"labels\.parquet\['labels'\] holds 1\.5"):
        count_labels(p, column="labels", progress=False)


def test_csv_integer_labels_order_numerically_as_jsonl_and_parquet(tmp_path):
    (tmp_path / "a.csv").write_text("label\n2\n10\n1\n2\n-100\n")
    (tmp_path / "a.jsonl").write_text("".join(f'{{"label": {v}}}\n' for v in (2, 10, 1, 2, -100)))
    csv, jsonl = read_labels(tmp_path / "a.csv"), read_labels(tmp_path / "a.jsonl")
    assert csv.classes == jsonl.classes == ("1", "2", "10")
    assert csv.counts.tolist() == jsonl.counts.tolist() == [1, 2, 1]
    assert csv.n_samples == 5  # the -100 row is an empty sample, as in JSONL
    (tmp_path / "b.csv").write_text("id,labels\na,3|10\nb,2\n")
    assert read_labels(tmp_path / "b.csv", delimiter="|").classes == ("2", "3", "10")
    # not plain integers: the text stays text, "01" and "1" two classes
    (tmp_path / "c.csv").write_text("label\n01\n1\n")
    assert read_labels(tmp_path / "c.csv").classes == ("01", "1")


def test_csv_empty_piece_between_delimiters_is_an_error_not_a_class(tmp_path):
    (tmp_path / "a.csv").write_text("id,labels\na,cat|dog\nb,cat||dog\n")
    with pytest.raises(CurateValueError, match=r"labels\[1\] is 'cat\|\|dog': an empty label"):
        read_labels(tmp_path / "a.csv", delimiter="|")


@pytest.mark.parametrize("token", ["\x85", "\u2028", "a\u2029b"])
def test_conll_lines_end_at_newline_only(tmp_path, token):
    # U+0085 is cp1252's ellipsis read as latin-1; str.splitlines() broke sentences there
    p = tmp_path / "a.conll"
    p.write_text(f"He\tO\n{token}\tO\nJohn\tB-PER\n\nMary\tB-PER\n", encoding="utf-8")
    t = read_labels(p, format="conll", sep="\t")
    assert t.n_samples == 2
    assert t.counts.to_dict() == {"B-PER": 2, "O": 2}
    p.write_text(f"He O\n{token} O\nJohn B-PER\n\nMary B-PER\n", encoding="utf-8")
    assert read_labels(p, format="conll").counts.to_dict() == {"B-PER": 2, "O": 2}


def test_coco_bad_category_ids_and_null_annotations_are_clear_errors(tmp_path):
    p = tmp_path / "i.json"
    doc = {"images": [{"id": 1}], "annotations": [],
           "categories": [{"id": 1, "name": "a"}, {"id": "90", "name": "b"}]}
    p.write_text(json.dumps(doc))
    with pytest.raises(CurateValueError, match=r"categories\[1\] has id '90' \(str\)"):
        read_coco(p)
    doc["categories"], doc["annotations"] = [{"id": 1, "name": "a"}], None
    p.write_text(json.dumps(doc))
    with pytest.raises(CurateValueError, match="'annotations': null, not a list"):
        read_coco(p)


def test_parquet_folder_with_two_schemas_is_a_clear_error(tmp_path):
    pq.write_table(pa.table({"label": ["a", "b"]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"label": [1, 2]}), tmp_path / "2.parquet")
    for read in (lambda: read_labels(tmp_path),
                 lambda: count_labels(tmp_path, column="label", progress=False)):
        with pytest.raises(CurateValueError, match="must hold its columns with the same types"):
            read()


def test_coco_iscrowd_as_text_is_a_number_not_a_truthy_string(tmp_path):
    p = tmp_path / "i.json"
    doc = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
           "annotations": [{"image_id": 1, "category_id": 1, "iscrowd": "0"},
                           {"image_id": 1, "category_id": 1, "iscrowd": 1}]}
    p.write_text(json.dumps(doc))
    assert read_coco(p, iscrowd="exclude").counts.to_dict() == {"a": 1}
    doc["annotations"][0]["iscrowd"] = 2
    p.write_text(json.dumps(doc))
    with pytest.raises(CurateValueError, match=r"annotations\[0\] has iscrowd 2"):
        read_coco(p)


def test_voc_reads_xml_files_of_any_suffix_case(tmp_path):
    xml = "<annotation><object><name>{}</name></object></annotation>"
    (tmp_path / "a.xml").write_text(xml.format("cat"))
    (tmp_path / "B.XML").write_text(xml.format("dog"))  # Windows tools write .XML
    t = read_voc(tmp_path)
    assert t.sample_ids.tolist() == ["B", "a"]
    assert t.counts.to_dict() == {"cat": 1, "dog": 1}
    (tmp_path / "a.xml").unlink()
    assert read_labels(tmp_path).counts.to_dict() == {"dog": 1}  # inferred as VOC


@pytest.mark.parametrize("order", ["ints_first", "strings_first"])
def test_parquet_folder_mixing_numbers_and_strings_is_refused_in_either_order(tmp_path, order):
    # pyarrow cast "1" to 1 (merging two kinds of label) when the int file came first, and
    # refused the other order: the result depended on file names
    ints, strs = pa.table({"label": [1, 2]}), pa.table({"label": ["1", "b"]})
    first, second = (ints, strs) if order == "ints_first" else (strs, ints)
    pq.write_table(first, tmp_path / "1.parquet")
    pq.write_table(second, tmp_path / "2.parquet")
    for read in (lambda: read_labels(tmp_path),
                 lambda: count_labels(tmp_path, column="label", progress=False)):
        with pytest.raises(CurateValueError, match=r"holds (numbers|strings) .* but "
                                                    r"(strings|numbers)"):
            read()


def test_cvat_label_used_but_not_declared_keeps_the_declared_order(tmp_path):
    # the undeclared "bus" used to drop <meta>'s order (and its unused classes): every id moved
    doc = CVAT.replace('<polygon label="car"/>', '<polygon label="car"/><box label="bus"/>')
    doc = doc.replace("<name>car</name></label><label><name>person</name>",
                      "<name>person</name></label><label><name>car</name>")
    (tmp_path / "annotations.xml").write_text(doc)
    with pytest.warns(UserWarning, match=r"labels \['bus'\] that <meta> does not declare"):
        t = read_labels(tmp_path)
    assert t.classes == ("person", "car", "bus")
    assert t.matrix.toarray().tolist() == [[2, 1, 1], [0, 0, 0]]


def test_cvat_label_names_are_stripped_on_shapes_as_in_meta(tmp_path):
    # <name>cat </name> is declared as 'cat'; the shapes' 'cat ' was another, undeclared class
    (tmp_path / "annotations.xml").write_text(
        "<annotations><meta><task><labels><label><name>cat </name></label>"
        "<label><name>dog</name></label></labels></task></meta>"
        "<image id='0' name='a.jpg'><box label='cat '/><box label='dog'/></image></annotations>")
    t = read_labels(tmp_path)
    assert t.classes == ("cat", "dog") and t.counts.tolist() == [1, 1]


def test_conll_bom_before_docstart_is_not_a_sentence(tmp_path):
    # the BOM hid -DOCSTART-: one sentence and one O token too many
    p = tmp_path / "bom.conll"
    p.write_bytes("\ufeff-DOCSTART- -X- -X- O\n\nJohn NNP B-NP B-PER\n\nIBM NNP B-NP B-ORG\n"
                  "runs VBZ B-VP O\n".encode())
    t = read_labels(p)
    assert t.n_samples == 2 and t.counts.to_dict() == {"B-ORG": 1, "B-PER": 1, "O": 1}


@pytest.mark.parametrize(("text", "kind"), [("id\tlabel\nd1\tearn\nd2\tacq\n", "tab"),
                                            ("label;id\nearn;d1\nacq;d2\n", "semicolon")])
def test_csv_with_another_separator_is_refused_not_one_class_per_row(tmp_path, text, kind):
    p = tmp_path / "labels.csv"
    p.write_text(text)
    with pytest.raises(CurateValueError, match=f"looks {kind}-separated"):
        read_labels(p)


def test_jsonl_and_coco_with_a_bom_are_read(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_bytes('\ufeff{"labels": ["a", "b"]}\n{"labels": ["a"]}\n'.encode())
    assert read_labels(p).counts.to_dict() == {"a": 2, "b": 1}
    doc = {"images": [{"id": 1}], "annotations": [{"image_id": 1, "category_id": 3}],
           "categories": [{"id": 3, "name": "cat"}]}
    c = tmp_path / "coco.json"
    c.write_bytes(("\ufeff" + json.dumps(doc)).encode())
    assert read_labels(c, format="coco").counts.to_dict() == {"cat": 1}


def test_yolo_skips_hidden_folders_and_refuses_disagreeing_class_names(tmp_path):
    labels = tmp_path / "labels" / "train"
    (labels / ".ipynb_checkpoints").mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (labels / ".ipynb_checkpoints" / "a-checkpoint.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("names: [cat, dog]\n")
    t = read_labels(tmp_path)
    assert t.sample_ids.tolist() == ["train/a"] and t.counts.to_dict() == {"cat": 1, "dog": 0}
    (tmp_path / "labels" / "classes.txt").write_text("dog\ncat\n")
    with pytest.raises(CurateValueError, match=r"classes\.txt names the classes"):
        read_labels(tmp_path)
    assert read_labels(tmp_path / "data.yaml").counts.to_dict() == {"cat": 1, "dog": 0}
    (tmp_path / "labels" / "classes.txt").write_text("cat\ndog\n")  # agreeing: fine
    assert read_labels(tmp_path).counts.to_dict() == {"cat": 1, "dog": 0}


def test_yolo_images_without_a_label_file_are_empty_samples(tmp_path):
    # ultralytics trains on them as background images; they were left out, so the share of
    # empty images was undercounted (40 of 80 at the reviewer's full size)
    for name in ("a", "b", "c"):
        (tmp_path / "images" / "train").mkdir(parents=True, exist_ok=True)
        (tmp_path / "images" / "train" / f"{name}.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "images" / "train" / "notes.md").write_text("not an image")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("names: [cat]\n")
    t = read_labels(tmp_path)
    assert t.sample_ids.tolist() == ["train/a", "train/b", "train/c"]
    assert t.matrix.toarray().tolist() == [[1], [0], [0]]
    alone = read_yolo(tmp_path / "labels", names=["cat"])  # the labels folder, same mirror
    assert alone.n_samples == 3


@pytest.mark.parametrize(("text", "scheme", "suffix"), [
    ("EU S-ORG\nrejects O\nGerman B-MISC\ncall E-MISC\n\nPeter S-PER\n", "IOBES", False),
    ("EU ORG-B\nrejects O\n\nPeter PER-B\nPan PER-I\n", "IOB1 or IOB2", True),
])
def test_read_conll_detects_iobes_and_suffix_tags(tmp_path, capsys, text, scheme, suffix):
    # an IOBES file needed scheme="IOBES", which `curate stats` cannot pass: it failed with
    # "S-ORG is not a valid IOB2 tag"
    import curate.cli

    p = tmp_path / "t.conll"
    p.write_text(text)
    entities = read_conll(p, level="entity").counts.to_dict()
    assert entities == ({"MISC": 1, "ORG": 1, "PER": 1} if scheme == "IOBES"
                        else {"ORG": 1, "PER": 1})
    assert curate.cli.main(["stats", str(p), "--json"]) == 0
    tags = json.loads(capsys.readouterr().out)["tags"]
    assert (tags["scheme"], tags["suffix"]) == (scheme, suffix)
