"""curate._tags: scheme detection (detect_scheme, parse_tag) and strict-mode spans."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from curate._tags import TagScheme, detect_scheme, entities_strict, odd_tags, parse_tag


@pytest.mark.parametrize(("seqs", "scheme", "suffix"), [
    ([["B-PER", "I-PER", "O"], ["O", "B-LOC"]], "IOB2", False),
    ([["O", "O"], ["O"]], "IOB2", False),                      # O-only column: IOB2
    ([["B-PER"]], "IOB2", False),
    ([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]], "IOB1", False),
    ([["I-PER"]], "IOB1", False),
    ([["I-PER", "E-PER", "O", "E-LOC"]], "IOE2", False),
    ([["I-PER", "E-PER", "I-PER", "O"]], "IOE1", False),
    ([["E-PER"]], "IOE2", False),
    ([["B-PER", "I-PER", "E-PER", "S-LOC", "O"]], "IOBES", False),
    ([["S-PER"]], "IOBES", False),
    ([["B-PER", "E-PER"]], "IOBES", False),
    ([["B-PER", "L-PER", "U-LOC", "O"]], "BILOU", False),
    ([["U-PER"]], "BILOU", False),
    ([["PER-B", "PER-I", "O"]], "IOB2", True),
    ([["PER-B", "PER-E", "O", "LOC-S"]], "IOBES", True),
    ([["PER-I", "PER-E", "O"]], "IOE2", True),
    ([["B-creative-work", "I-creative-work", "O"]], "IOB2", False),
])
def test_detect_scheme(seqs, scheme, suffix):
    assert detect_scheme(seqs) == TagScheme(scheme, suffix=suffix)


@pytest.mark.parametrize("seqs", [
    [["B-PER", "O"], ["B-"]],            # empty type
    [["B-PER", "O"], ["X-PER"]],         # unknown prefix
    [["B-PER", "O"], ["b-per"]],         # lower case
    [["B-PER", "O", "B PER"]],           # no dash
    [["B-PER", "PER-I"]],                # prefix and suffix style mixed
    [["B-PER", "E-PER", "L-PER"]],       # IOBES mixed with BILOU
    [["O", "B-PER "]],                   # trailing blank in the type
    [[1, 0], [0]],                       # numbers
    ["B-PER O"],                          # a bare string, not a sequence
    [],                                   # nothing at all
    [[], []],
    [["cat", "dog"]],
])
def test_detect_scheme_none(seqs):
    assert detect_scheme(seqs) is None


def test_detect_scheme_containers():
    rows = [["B-PER", "I-PER", "O"], None, ["O"]]            # None rows are skipped
    assert detect_scheme(rows) == TagScheme("IOB2")
    arrays = [np.array(["B-PER", "O"], dtype=object), np.array(["O"])]
    assert detect_scheme(arrays) == TagScheme("IOB2")
    assert detect_scheme(pd.Series([["I-LOC"], ["O", "I-LOC"]])) == TagScheme("IOB1")
    assert detect_scheme(iter([("B-PER", "E-PER")])) == TagScheme("IOBES")


def test_iob1_vs_iob2_is_decided_by_majority_of_chunk_openings():
    # 2 chunks open with I- (IOB1 style), 1 with B- (IOB2 style): IOB1
    assert detect_scheme([["I-A", "O", "I-B", "O", "B-C"]]).scheme == "IOB1"
    # a tie goes to IOB2; B- after I- of the same type is not an opening
    assert detect_scheme([["I-A", "O", "B-C"]]).scheme == "IOB2"
    assert detect_scheme([["I-A", "B-A", "I-A"]]).scheme == "IOB1"
    # a sequence boundary opens a chunk even when the previous sequence ended in I-A
    assert detect_scheme([["B-A", "I-A"], ["I-A"], ["I-A"]]).scheme == "IOB1"


def test_ioe1_vs_ioe2_is_decided_by_majority_of_chunk_closings():
    assert detect_scheme([["I-A", "O", "I-B", "O", "E-C"]]).scheme == "IOE1"
    assert detect_scheme([["I-A", "O", "E-C"]]).scheme == "IOE2"
    assert detect_scheme([["I-A", "E-A", "I-A"]]).scheme == "IOE1"


def test_parse_tag_and_odd_tags():
    assert parse_tag("I-creative-work") == ("I", "creative-work")
    assert parse_tag("creative-work-I", suffix=True) == ("I", "creative-work")
    assert parse_tag("O", suffix=True) == ("O", "")
    for bad in ("B-", "-PER", "X-PER", "b-per", "B", "", "O-PER", "B--PER", 3, None):
        assert parse_tag(bad) is None, bad
    assert odd_tags(["O", "B-PER", "X-PER"]) == ["X-PER"]


def test_tag_scheme_checks_its_name():
    with pytest.raises(ValueError, match=r"TagScheme.scheme is 'BIO'"):
        TagScheme("BIO")


def test_detect_scheme_is_fast_on_a_million_tags(rng):
    vocab = np.array(["O"] * 6 + ["B-PER", "I-PER", "B-LOC", "I-LOC"], dtype=object)
    flat = vocab[rng.integers(0, vocab.size, 10**6)]
    seqs = [flat[i:i + 20].tolist() for i in range(0, flat.size, 20)]
    start = time.perf_counter()
    found = detect_scheme(seqs)
    elapsed = time.perf_counter() - start
    assert found is not None and found.scheme in ("IOB1", "IOB2")
    assert elapsed < 2.0, elapsed   # about 0.1 s on one core; loose for a busy machine


# Ported from seqeval tests/test_scheme.py (chakki-works/seqeval): the entity lists of
# test_<scheme>_tokens and test_<scheme>_tokens_without_tag, with seqeval's expected spans
# (seqeval ends are exclusive; ours are inclusive, hence ``end - 1`` below).
SEQEVAL_SCHEME_CASES = [
    ('IOB1', [], []),
    ('IOB1', ['B-PER'], []),
    ('IOB1', ['I-PER'], [('PER', 0, 1)]),
    ('IOB1', ['O'], []),
    ('IOB1', ['O', 'I-PER'], [('PER', 1, 2)]),
    ('IOB1', ['O', 'B-PER'], []),
    ('IOB1', ['I-PER', 'O'], [('PER', 0, 1)]),
    ('IOB1', ['I-PER', 'I-PER'], [('PER', 0, 2)]),
    ('IOB1', ['I-PER', 'I-ORG'], [('PER', 0, 1), ('ORG', 1, 2)]),
    ('IOB1', ['I-PER', 'B-PER'], [('PER', 0, 1), ('PER', 1, 2)]),
    ('IOB1', ['I-PER', 'B-ORG'], [('PER', 0, 1)]),
    ('IOB1', ['B-PER', 'O'], []),
    ('IOB1', ['B-PER', 'I-PER'], [('PER', 1, 2)]),
    ('IOB1', ['B-PER', 'I-ORG'], [('ORG', 1, 2)]),
    ('IOB1', ['B-PER', 'B-PER'], [('PER', 1, 2)]),
    ('IOB1', ['B-PER', 'B-ORG'], []),
    ('IOB1', [], []),
    ('IOB1', ['B'], []),
    ('IOB1', ['I'], [('_', 0, 1)]),
    ('IOB1', ['O'], []),
    ('IOB1', ['O', 'O'], []),
    ('IOB1', ['O', 'I'], [('_', 1, 2)]),
    ('IOB1', ['O', 'B'], []),
    ('IOB1', ['I', 'O'], [('_', 0, 1)]),
    ('IOB1', ['I', 'I'], [('_', 0, 2)]),
    ('IOB1', ['I', 'B'], [('_', 0, 1), ('_', 1, 2)]),
    ('IOB1', ['B', 'O'], []),
    ('IOB1', ['B', 'I'], [('_', 1, 2)]),
    ('IOB1', ['B', 'B'], [('_', 1, 2)]),
    ('IOB2', [], []),
    ('IOB2', ['B-PER'], [('PER', 0, 1)]),
    ('IOB2', ['I-PER'], []),
    ('IOB2', ['O'], []),
    ('IOB2', ['O', 'I-PER'], []),
    ('IOB2', ['O', 'B-PER'], [('PER', 1, 2)]),
    ('IOB2', ['I-PER', 'O'], []),
    ('IOB2', ['I-PER', 'I-PER'], []),
    ('IOB2', ['I-PER', 'I-ORG'], []),
    ('IOB2', ['I-PER', 'B-PER'], [('PER', 1, 2)]),
    ('IOB2', ['I-PER', 'B-ORG'], [('ORG', 1, 2)]),
    ('IOB2', ['B-PER', 'O'], [('PER', 0, 1)]),
    ('IOB2', ['B-PER', 'I-PER'], [('PER', 0, 2)]),
    ('IOB2', ['B-PER', 'I-ORG'], [('PER', 0, 1)]),
    ('IOB2', ['B-PER', 'B-PER'], [('PER', 0, 1), ('PER', 1, 2)]),
    ('IOB2', ['B-PER', 'B-ORG'], [('PER', 0, 1), ('ORG', 1, 2)]),
    ('IOB2', [], []),
    ('IOB2', ['B'], [('_', 0, 1)]),
    ('IOB2', ['I'], []),
    ('IOB2', ['O'], []),
    ('IOB2', ['O', 'O'], []),
    ('IOB2', ['O', 'I'], []),
    ('IOB2', ['O', 'B'], [('_', 1, 2)]),
    ('IOB2', ['I', 'O'], []),
    ('IOB2', ['I', 'I'], []),
    ('IOB2', ['I', 'B'], [('_', 1, 2)]),
    ('IOB2', ['B', 'O'], [('_', 0, 1)]),
    ('IOB2', ['B', 'I'], [('_', 0, 2)]),
    ('IOB2', ['B', 'B'], [('_', 0, 1), ('_', 1, 2)]),
    ('IOE1', [], []),
    ('IOE1', ['E-PER'], []),
    ('IOE1', ['I-PER'], [('PER', 0, 1)]),
    ('IOE1', ['O'], []),
    ('IOE1', ['O', 'I-PER'], [('PER', 1, 2)]),
    ('IOE1', ['O', 'E-PER'], []),
    ('IOE1', ['I-PER', 'O'], [('PER', 0, 1)]),
    ('IOE1', ['I-PER', 'I-PER'], [('PER', 0, 2)]),
    ('IOE1', ['I-PER', 'I-ORG'], [('PER', 0, 1), ('ORG', 1, 2)]),
    ('IOE1', ['I-PER', 'E-ORG'], [('PER', 0, 1)]),
    ('IOE1', ['E-PER', 'O'], []),
    ('IOE1', ['E-PER', 'I-PER'], [('PER', 1, 2)]),
    ('IOE1', ['E-PER', 'I-ORG'], [('ORG', 1, 2)]),
    ('IOE1', ['E-PER', 'E-PER'], []),
    ('IOE1', ['E-PER', 'E-ORG'], []),
    ('IOE1', [], []),
    ('IOE1', ['E'], []),
    ('IOE1', ['I'], [('_', 0, 1)]),
    ('IOE1', ['O'], []),
    ('IOE1', ['O', 'O'], []),
    ('IOE1', ['O', 'I'], [('_', 1, 2)]),
    ('IOE1', ['O', 'E'], []),
    ('IOE1', ['I', 'O'], [('_', 0, 1)]),
    ('IOE1', ['I', 'I'], [('_', 0, 2)]),
    ('IOE1', ['E', 'O'], []),
    ('IOE1', ['E', 'I'], [('_', 1, 2)]),
    ('IOE1', ['E', 'E'], []),
    ('IOE2', [], []),
    ('IOE2', ['E-PER'], [('PER', 0, 1)]),
    ('IOE2', ['I-PER'], []),
    ('IOE2', ['O'], []),
    ('IOE2', ['O', 'I-PER'], []),
    ('IOE2', ['O', 'E-PER'], [('PER', 1, 2)]),
    ('IOE2', ['I-PER', 'O'], []),
    ('IOE2', ['I-PER', 'I-PER'], []),
    ('IOE2', ['I-PER', 'I-ORG'], []),
    ('IOE2', ['I-PER', 'E-PER'], [('PER', 0, 2)]),
    ('IOE2', ['I-PER', 'E-ORG'], [('ORG', 1, 2)]),
    ('IOE2', ['E-PER', 'O'], [('PER', 0, 1)]),
    ('IOE2', ['E-PER', 'I-PER'], [('PER', 0, 1)]),
    ('IOE2', ['E-PER', 'I-ORG'], [('PER', 0, 1)]),
    ('IOE2', ['E-PER', 'E-PER'], [('PER', 0, 1), ('PER', 1, 2)]),
    ('IOE2', ['E-PER', 'E-ORG'], [('PER', 0, 1), ('ORG', 1, 2)]),
    ('IOE2', [], []),
    ('IOE2', ['E'], [('_', 0, 1)]),
    ('IOE2', ['I'], []),
    ('IOE2', ['O'], []),
    ('IOE2', ['O', 'O'], []),
    ('IOE2', ['O', 'I'], []),
    ('IOE2', ['O', 'E'], [('_', 1, 2)]),
    ('IOE2', ['I', 'O'], []),
    ('IOE2', ['I', 'I'], []),
    ('IOE2', ['I', 'E'], [('_', 0, 2)]),
    ('IOE2', ['E', 'O'], [('_', 0, 1)]),
    ('IOE2', ['E', 'I'], [('_', 0, 1)]),
    ('IOE2', ['E', 'E'], [('_', 0, 1), ('_', 1, 2)]),
    ('IOBES', ['O'], []),
    ('IOBES', ['I-PER'], []),
    ('IOBES', ['B-PER'], []),
    ('IOBES', ['E-PER'], []),
    ('IOBES', ['S-PER'], [('PER', 0, 1)]),
    ('IOBES', ['O', 'O'], []),
    ('IOBES', ['O', 'I-PER'], []),
    ('IOBES', ['O', 'B-PER'], []),
    ('IOBES', ['O', 'E-PER'], []),
    ('IOBES', ['O', 'S-PER'], [('PER', 1, 2)]),
    ('IOBES', ['I-PER', 'O'], []),
    ('IOBES', ['I-PER', 'I-PER'], []),
    ('IOBES', ['I-PER', 'I-ORG'], []),
    ('IOBES', ['I-PER', 'B-PER'], []),
    ('IOBES', ['I-PER', 'E-PER'], []),
    ('IOBES', ['I-PER', 'E-ORG'], []),
    ('IOBES', ['I-PER', 'S-PER'], [('PER', 1, 2)]),
    ('IOBES', ['B-PER', 'O'], []),
    ('IOBES', ['B-PER', 'I-PER'], []),
    ('IOBES', ['B-PER', 'I-ORG'], []),
    ('IOBES', ['B-PER', 'B-PER'], []),
    ('IOBES', ['B-PER', 'E-PER'], [('PER', 0, 2)]),
    ('IOBES', ['B-PER', 'E-ORG'], []),
    ('IOBES', ['B-PER', 'S-PER'], [('PER', 1, 2)]),
    ('IOBES', ['E-PER', 'O'], []),
    ('IOBES', ['E-PER', 'I-PER'], []),
    ('IOBES', ['E-PER', 'B-PER'], []),
    ('IOBES', ['E-PER', 'E-PER'], []),
    ('IOBES', ['E-PER', 'S-PER'], [('PER', 1, 2)]),
    ('IOBES', ['S-PER', 'O'], [('PER', 0, 1)]),
    ('IOBES', ['S-PER', 'I-PER'], [('PER', 0, 1)]),
    ('IOBES', ['S-PER', 'B-PER'], [('PER', 0, 1)]),
    ('IOBES', ['S-PER', 'E-PER'], [('PER', 0, 1)]),
    ('IOBES', ['S-PER', 'S-PER'], [('PER', 0, 1), ('PER', 1, 2)]),
    ('IOBES', ['O'], []),
    ('IOBES', ['I'], []),
    ('IOBES', ['B'], []),
    ('IOBES', ['E'], []),
    ('IOBES', ['S'], [('_', 0, 1)]),
    ('IOBES', ['O', 'O'], []),
    ('IOBES', ['O', 'I'], []),
    ('IOBES', ['O', 'B'], []),
    ('IOBES', ['O', 'E'], []),
    ('IOBES', ['O', 'S'], [('_', 1, 2)]),
    ('IOBES', ['I', 'O'], []),
    ('IOBES', ['I', 'I'], []),
    ('IOBES', ['I', 'B'], []),
    ('IOBES', ['I', 'E'], []),
    ('IOBES', ['I', 'S'], [('_', 1, 2)]),
    ('IOBES', ['B', 'O'], []),
    ('IOBES', ['B', 'I'], []),
    ('IOBES', ['B', 'B'], []),
    ('IOBES', ['B', 'E'], [('_', 0, 2)]),
    ('IOBES', ['B', 'S'], [('_', 1, 2)]),
    ('IOBES', ['E', 'O'], []),
    ('IOBES', ['E', 'I'], []),
    ('IOBES', ['E', 'B'], []),
    ('IOBES', ['E', 'E'], []),
    ('IOBES', ['E', 'S'], [('_', 1, 2)]),
    ('IOBES', ['S', 'O'], [('_', 0, 1)]),
    ('IOBES', ['S', 'I'], [('_', 0, 1)]),
    ('IOBES', ['S', 'B'], [('_', 0, 1)]),
    ('IOBES', ['S', 'E'], [('_', 0, 1)]),
    ('IOBES', ['S', 'S'], [('_', 0, 1), ('_', 1, 2)]),
    ('BILOU', ['O'], []),
    ('BILOU', ['I-PER'], []),
    ('BILOU', ['B-PER'], []),
    ('BILOU', ['L-PER'], []),
    ('BILOU', ['U-PER'], [('PER', 0, 1)]),
    ('BILOU', ['O', 'O'], []),
    ('BILOU', ['O', 'I-PER'], []),
    ('BILOU', ['O', 'B-PER'], []),
    ('BILOU', ['O', 'L-PER'], []),
    ('BILOU', ['O', 'U-PER'], [('PER', 1, 2)]),
    ('BILOU', ['I-PER', 'O'], []),
    ('BILOU', ['I-PER', 'I-PER'], []),
    ('BILOU', ['I-PER', 'I-ORG'], []),
    ('BILOU', ['I-PER', 'B-PER'], []),
    ('BILOU', ['I-PER', 'L-PER'], []),
    ('BILOU', ['I-PER', 'L-ORG'], []),
    ('BILOU', ['I-PER', 'U-PER'], [('PER', 1, 2)]),
    ('BILOU', ['B-PER', 'O'], []),
    ('BILOU', ['B-PER', 'I-PER'], []),
    ('BILOU', ['B-PER', 'I-ORG'], []),
    ('BILOU', ['B-PER', 'B-PER'], []),
    ('BILOU', ['B-PER', 'L-PER'], [('PER', 0, 2)]),
    ('BILOU', ['B-PER', 'L-ORG'], []),
    ('BILOU', ['B-PER', 'U-PER'], [('PER', 1, 2)]),
    ('BILOU', ['L-PER', 'O'], []),
    ('BILOU', ['L-PER', 'I-PER'], []),
    ('BILOU', ['L-PER', 'B-PER'], []),
    ('BILOU', ['L-PER', 'L-PER'], []),
    ('BILOU', ['L-PER', 'U-PER'], [('PER', 1, 2)]),
    ('BILOU', ['U-PER', 'O'], [('PER', 0, 1)]),
    ('BILOU', ['U-PER', 'I-PER'], [('PER', 0, 1)]),
    ('BILOU', ['U-PER', 'B-PER'], [('PER', 0, 1)]),
    ('BILOU', ['U-PER', 'L-PER'], [('PER', 0, 1)]),
    ('BILOU', ['U-PER', 'U-PER'], [('PER', 0, 1), ('PER', 1, 2)]),
    ('BILOU', ['O'], []),
    ('BILOU', ['I'], []),
    ('BILOU', ['B'], []),
    ('BILOU', ['L'], []),
    ('BILOU', ['U'], [('_', 0, 1)]),
    ('BILOU', ['O', 'O'], []),
    ('BILOU', ['O', 'I'], []),
    ('BILOU', ['O', 'B'], []),
    ('BILOU', ['O', 'L'], []),
    ('BILOU', ['O', 'U'], [('_', 1, 2)]),
    ('BILOU', ['I', 'O'], []),
    ('BILOU', ['I', 'I'], []),
    ('BILOU', ['I', 'B'], []),
    ('BILOU', ['I', 'L'], []),
    ('BILOU', ['I', 'U'], [('_', 1, 2)]),
    ('BILOU', ['B', 'O'], []),
    ('BILOU', ['B', 'I'], []),
    ('BILOU', ['B', 'B'], []),
    ('BILOU', ['B', 'L'], [('_', 0, 2)]),
    ('BILOU', ['B', 'U'], [('_', 1, 2)]),
    ('BILOU', ['L', 'O'], []),
    ('BILOU', ['L', 'I'], []),
    ('BILOU', ['L', 'B'], []),
    ('BILOU', ['L', 'L'], []),
    ('BILOU', ['L', 'U'], [('_', 1, 2)]),
    ('BILOU', ['U', 'O'], [('_', 0, 1)]),
    ('BILOU', ['U', 'I'], [('_', 0, 1)]),
    ('BILOU', ['U', 'B'], [('_', 0, 1)]),
    ('BILOU', ['U', 'L'], [('_', 0, 1)]),
    ('BILOU', ['U', 'U'], [('_', 0, 1), ('_', 1, 2)]),
]


@pytest.mark.parametrize(("scheme", "tokens", "expected"), SEQEVAL_SCHEME_CASES)
def test_strict_spans_equal_seqeval_scheme_cases(scheme, tokens, expected):
    assert entities_strict(tokens, scheme) == [(t, s, e - 1) for t, s, e in expected]


# Ported from seqeval tests/test_scheme.py: test_invalid_prefix and
# TestTokens.test_raise_exception_when_iobes_tokens_with_iob2_scheme
@pytest.mark.parametrize(("token", "scheme"), [
    ("E", "IOB1"), ("S", "IOB1"), ("E", "IOB2"), ("S", "IOB2"),
    ("B", "IOE1"), ("S", "IOE1"), ("B", "IOE2"), ("S", "IOE2"),
])
def test_invalid_prefix_raises(token, scheme):
    with pytest.raises(ValueError, match=f"not valid in scheme {scheme}"):
        entities_strict([token], scheme)


def test_iobes_tokens_with_iob2_scheme_raise():
    with pytest.raises(ValueError, match="'E-PER' is not valid in scheme IOB2"):
        entities_strict(["B-PER", "E-PER", "S-PER"], "IOB2")


# Ported from seqeval tests/test_scheme.py test_token_tag (suffix style and nested types)
@pytest.mark.parametrize(("tokens", "suffix", "expected"), [
    (["I-MISC"], False, "MISC"), (["MISC-I"], True, "MISC"),
    (["I-ORG-COMPANY"], False, "ORG-COMPANY"), (["ORG-COMPANY-I"], True, "ORG-COMPANY"),
    (["I-組織"], False, "組織"),
])
def test_strict_types_like_seqeval(tokens, suffix, expected):
    (span,) = entities_strict(tokens, "IOB1", suffix=suffix)
    assert span[0] == expected


# Ported from seqeval tests/test_scheme.py TestAutoDetect.test_valid_scheme (bare prefixes
# there; detect_scheme needs a type, so each prefix gets "-X"). seqeval's auto_detect raises
# for [['I', 'O']]; detect_scheme calls that IOB1 (chunks opened by I-), see its docs.
@pytest.mark.parametrize(("prefixes", "expected"), [
    ("BIO", "IOB2"), ("BI", "IOB2"), ("BO", "IOB2"), ("B", "IOB2"),
    ("IOE", "IOE2"), ("IE", "IOE2"), ("EO", "IOE2"), ("E", "IOE2"),
    ("IOBES", "IOBES"), ("IBES", "IOBES"), ("IOBE", "IOBES"), ("OBES", "IOBES"),
    ("IBE", "IOBES"), ("BES", "IOBES"), ("OBE", "IOBES"), ("BE", "IOBES"), ("S", "IOBES"),
    ("IOBLU", "BILOU"), ("IBLU", "BILOU"), ("IOBL", "BILOU"), ("OBLU", "BILOU"),
    ("IBL", "BILOU"), ("BLU", "BILOU"), ("OBL", "BILOU"), ("BL", "BILOU"), ("U", "BILOU"),
])
def test_auto_detect_like_seqeval(prefixes, expected):
    seq = [p if p == "O" else f"{p}-X" for p in prefixes]
    assert detect_scheme([seq]).scheme == expected
