"""BalancePlan persistence, manifest, summary and dict output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.balance import BalancePlan, InterClassBalancer, manifest_indices
from curate.balance._plan import label_checksum
from curate.datasets import make_long_tailed


@pytest.fixture()
def plan():
    table = make_long_tailed(400, 10, seed=1)
    table = curate.LabelTable(table.matrix, table.classes,
                              sample_ids=[f"img{i:04d}" for i in range(400)])
    return InterClassBalancer(seed=7).fit(table)


def test_save_load_roundtrip_redraws_identically(plan, tmp_path):
    path = plan.save(tmp_path / "sub" / "m.parquet")
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m.parquet"]  # no sidecar
    back = BalancePlan.load(path)
    assert back.table.classes == plan.table.classes
    assert back.table.sample_ids.tolist() == plan.table.sample_ids.tolist()
    assert (back.table.matrix != plan.table.matrix).nnz == 0
    for epoch in range(4):
        assert back.draw(epoch).tolist() == plan.draw(epoch).tolist()
        assert back.indices(epoch).tolist() == plan.indices(epoch).tolist()
    assert back.status is plan.status and back.objective == pytest.approx(plan.objective)
    with_table = BalancePlan.load(path, table=plan.table)
    assert with_table.multiplicity.tolist() == plan.multiplicity.tolist()


def test_load_rejects_other_table(plan, tmp_path):
    path = plan.save(tmp_path / "m.parquet")
    other = make_long_tailed(400, 10, seed=2)
    with pytest.raises(ValueError, match="checksum differs"):
        BalancePlan.load(path, table=other)


def test_load_rejects_foreign_parquet(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="no curate plan metadata"):
        BalancePlan.load(tmp_path / "x.parquet")
    with pytest.raises(FileNotFoundError):
        BalancePlan.load(tmp_path / "missing.parquet")


def test_manifest_and_indices(plan, tmp_path):
    frame = plan.to_manifest()
    assert list(frame.columns) == ["sample_id", "index", "multiplicity"]
    assert frame["multiplicity"].tolist() == plan.multiplicity.tolist()
    path = plan.save(tmp_path / "m.parquet")
    assert manifest_indices(path, 2).tolist() == plan.indices(2, shuffle=False).tolist()


def test_resampled_labels_count_like_the_plan(plan):
    frame = plan.resampled_labels(1)
    again = curate.LabelTable.from_labels(frame["labels"], classes=plan.table.classes)
    assert again.counts.tolist() == plan.class_totals(plan.draw(1)).tolist()


def test_to_dict_is_json_and_complete(plan):
    d = json.loads(json.dumps(plan.to_dict()))
    for key in ("method", "status", "objective", "lower_bound", "gap", "solve_seconds",
                "epoch_size", "n_duplicates", "n_removed", "counts_before", "counts_after",
                "options", "details"):
        assert key in d
    assert d["counts_after"] == {k: int(v) for k, v in plan.counts_after.items()}
    assert d["details"]["timings"]["solve"] >= 0


def test_summary_lists_classes_and_results(plan):
    text = plan.summary()
    for name in plan.table.classes:
        assert name in text
    assert f"epoch size {plan.epoch_size}" in text and "gap" in text
    short = plan.summary(max_classes=4)
    assert "6 more classes" in short


def test_checksum_ignores_ids_but_not_labels():
    a = curate.LabelTable.from_labels([["x"], ["y"]], sample_ids=["p", "q"])
    b = curate.LabelTable.from_labels([["x"], ["y"]])
    c = curate.LabelTable.from_labels([["x"], ["x"]], classes=["x", "y"])
    assert label_checksum(a) == label_checksum(b) != label_checksum(c)


def test_fractional_plans_roundtrip(tmp_path):
    table = curate.LabelTable.from_labels([["a"]] * 5 + [["b"]])
    plan = BalancePlan.from_multiplicity(table, np.array([0.5] * 5 + [2.5]), seed=3)
    back = BalancePlan.load(plan.save(tmp_path / "f.parquet"))
    assert [back.draw(e).tolist() for e in range(5)] == [plan.draw(e).tolist() for e in range(5)]


@given(groups=st.lists(st.integers(0, 6), min_size=1, max_size=60), seed=st.integers(0, 9))
def test_member_ranks_are_a_permutation_inside_each_group(groups, seed):
    table = curate.LabelTable.from_labels([["a"]] * len(groups))
    plan = BalancePlan.from_multiplicity(table, np.ones(len(groups)), group=groups, seed=seed)
    rank = plan._rank
    for g in np.unique(plan.group):
        members = rank[plan.group == g]
        assert sorted(members.tolist()) == list(range(len(members)))


def _whole_member_rank(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Member ranks from one stable sort of every row (what member_rank did before blocks)."""
    order = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n_groups))])
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - starts[group[order]]
    return rank


@given(groups=st.lists(st.integers(0, 6), max_size=60), block=st.integers(1, 9))
def test_blockwise_member_rank_and_draw_equal_the_whole_array_ones(groups, block):
    from curate.balance import _draw

    g = np.array(groups, dtype=np.int64)
    whole = _whole_member_rank(g, 7)
    state = _draw.EpochState(np.arange(7) % 3, np.arange(7) % 4, np.arange(7) % 5,
                             np.maximum(np.bincount(g, minlength=7), 1))
    expected = state.base[g] + ((whole - state.start[g]) % state.size[g] < state.rem[g])
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_draw, "_RANK_BLOCK", block)
        rank = _draw.member_rank(g, 7)
        drawn = state.draw(g, rank)
    assert rank.dtype == np.int32 and rank.tolist() == whole.tolist()
    assert drawn.dtype == np.int64 and drawn.tolist() == expected.tolist()


def test_plan_keeps_group_ids_as_int32_and_leaves_the_callers_array_alone():
    table = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
    group = np.array([0, 0, 1], dtype=np.int64)
    plan = BalancePlan(table, group, np.array([1.0, 1.0]))
    assert plan.group.dtype == np.int32 and not plan.group.flags.writeable
    assert group.flags.writeable and group.dtype == np.int64
    # range checks run before the narrowing cast: 2**32 would wrap to 0 in int32
    with pytest.raises(curate.exceptions.CurateValueError, match="group ids must lie"):
        BalancePlan(table, np.array([0, 0, 2**32]), np.array([1.0, 1.0]))
    same = BalancePlan(table, group.astype(np.int32), np.array([1.0, 1.0]))
    assert same.digest == plan.digest


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path):
    # issue 11: 34 of 300 flips used to load silently as a different plan
    table = curate.LabelTable.from_labels([["a"], ["a", "b"], ["b"], ["c"]] * 5,
                                          sample_ids=[f"s{i}" for i in range(20)])
    fitted = InterClassBalancer(seed=1).fit(table)
    saved = fitted.save(tmp_path / "m.parquet")
    raw = saved.read_bytes()
    plan = BalancePlan.load(saved)  # what an intact file gives (run timings are not saved)
    assert plan.digest == fitted.digest and plan.solve_seconds is None
    changed = 0
    for pos in range(0, len(raw), max(1, len(raw) // 400)):
        bad = bytearray(raw)
        bad[pos] ^= 0x5A
        path = tmp_path / "bad.parquet"
        path.write_bytes(bytes(bad))
        try:
            back = BalancePlan.load(path)
        except (ValueError, OSError):
            continue
        same = (back.digest == plan.digest
                and back.table.sample_ids.tolist() == plan.table.sample_ids.tolist()
                and back.to_dict() == plan.to_dict())
        changed += not same
    assert changed == 0


def test_digest_names_everything_that_decides_the_draws():
    table = curate.LabelTable.from_labels([["a"], ["b"], ["b"]])
    base = BalancePlan.from_multiplicity(table, [1, 1, 0])
    assert base.digest == BalancePlan.from_multiplicity(table, [1, 1, 0]).digest
    others = [BalancePlan.from_multiplicity(table, [1, 0, 1]),
              BalancePlan.from_multiplicity(table, [1, 1, 0], seed=1),
              BalancePlan.from_multiplicity(table, [1, 1, 0], rounding="multinomial"),
              BalancePlan.from_multiplicity(table, [1, 1, 0], count="samples")]
    assert len({base.digest, *(p.digest for p in others)}) == 5


def test_multinomial_plans_redraw_every_epoch():
    table = curate.LabelTable.from_labels([["a"]] * 50 + [["b"]] * 50)
    plan = BalancePlan.from_multiplicity(table, np.full(100, 1.0), rounding="multinomial")
    draws = [plan.draw(e) for e in range(5)]
    assert all(d.sum() == 100 for d in draws)
    assert len({d.tobytes() for d in draws}) == 5
    assert plan.coverage_epochs == float("inf")


@settings(max_examples=40, deadline=None)
@given(totals=st.lists(st.integers(0, 12), min_size=1, max_size=8), window=st.integers(1, 4),
       seed=st.integers(0, 5), data=st.data())
def test_systematic_draws_cover_every_member_in_every_window(totals, window, seed, data):
    # group g has n_g members and a fixed-point total >= n_g / window
    sizes = [data.draw(st.integers(1, 6)) for _ in totals]
    group = np.repeat(np.arange(len(sizes)), sizes)
    table = curate.LabelTable.from_labels([["a"]] * len(group))
    expected = [max(t / 4, n / window) for t, n in zip(totals, sizes, strict=True)]
    from curate.balance._draw import quantize

    y = quantize(np.asarray(expected), np.asarray(sizes) / window, np.asarray(sizes) * 4.0,
                 0, 10**6, window)
    plan = BalancePlan(table, group, y, rounding="systematic", window=window, seed=seed)
    draws = np.array([plan.draw(e) for e in range(3 * window)])
    assert len(set(draws.sum(axis=1).tolist())) == 1  # exact epoch size
    for e in range(2 * window + 1):
        assert (draws[e: e + window].sum(axis=0) >= 1).all()
    per_group = np.array([np.bincount(group, weights=d) for d in draws])
    assert (np.abs(per_group - y) < 1).all()  # floor or ceil of the expectation
    assert np.allclose(per_group[:window].mean(axis=0), y, atol=1 / window + 1e-9)


def test_load_rejects_a_table_with_rows_swapped_under_equal_labels(tmp_path):
    # two rows with the same labels swap without changing the label checksum; the ids tell
    t = curate.LabelTable.from_labels([["a"], ["b"], ["a"], ["a"]], sample_ids=list("pqrs"))
    plan = curate.InterClassBalancer().fit(t)
    path = plan.save(tmp_path / "m.parquet")
    assert curate.BalancePlan.load(path, t).digest == plan.digest
    swapped = curate.LabelTable.from_labels([["a"], ["b"], ["a"], ["a"]],
                                            sample_ids=list("rqps"))
    with pytest.raises(ValueError, match=r"row 0: 'r' here, 'p' stored"):
        curate.BalancePlan.load(path, swapped)
    # a table without ids (row positions) cannot be checked and is accepted as before
    unnamed = curate.LabelTable.from_labels([["a"], ["b"], ["a"], ["a"]])
    assert curate.BalancePlan.load(path, unnamed).n_samples == 4


def test_saved_plans_are_byte_identical_for_the_same_inputs_and_seed(tmp_path):
    # the metadata held solve_seconds and per-step timings: same plan, different bytes
    table = curate.LabelTable.from_labels([["a"], ["a", "b"], ["b"], ["c"]] * 5)
    a = InterClassBalancer(seed=3).fit(table).save(tmp_path / "a.parquet").read_bytes()
    b = InterClassBalancer(seed=3).fit(table).save(tmp_path / "b.parquet").read_bytes()
    assert a == b
