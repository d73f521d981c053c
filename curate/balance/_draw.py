"""Per-epoch integer draws of a plan's expected copies (pure functions of the plan's arrays).

A plan stores, per group of interchangeable samples, the expected copies per epoch ``T_g``.
Three ways turn them into whole copies per sample and epoch:

``"systematic"`` (:class:`InterClassBalancer` plans)
    Dependent rounding with a coverage guarantee. The totals are fixed-point numbers in units
    of ``1 / Q`` with ``Q = W · 2^20`` (``W`` = the plan's ``coverage_epochs``). Groups are laid
    end to end in a fixed order (sorted by the rarest class they hold, then the second
    rarest, so the groups of each rare class sit together); group ``g`` covers the interval
    ``[C_g, C_g + φ_g)`` of the fractional parts ``φ_g = frac(T_g)`` (in units). Epoch ``e``
    puts points at ``o_e + jQ`` with ``o_e = u₀ + (e mod W) · Q / W`` (``u₀`` seeded), and
    group ``g`` gets ``floor(T_g)`` copies plus the number of points in its interval (0 or
    1). Hence:

    * the epoch size is exactly ``Σ_g T_g`` (the fractional parts tile whole units);
    * a class whose groups sit together misses its expected total by less than one group's
      worth of instances; others by a few, independently of the number of epochs;
    * over any ``W`` consecutive epochs the points are ``W`` equally spaced offsets, so a
      group receives at least ``floor(W · T_g)`` copies in total.

    Inside a group the copies go to consecutive members (in row order, starting at a seeded
    offset) continuing where the previous epoch stopped: with ``T_g ≥ n_g / W`` every member
    is drawn at least once in every ``W`` consecutive epochs. A plan without ``W`` (a
    permanent subset, whole totals) draws the same copies every epoch.
``"bernoulli"``
    Each epoch, ``floor(T_g)`` plus a Bernoulli(``frac(T_g)``) draw seeded by ``(seed,
    epoch)`` (stochastic rounding, as detectron2's repeat-factor sampler); copies go to a
    window of members that moves ``floor(e · T_g)`` along per epoch.
``"multinomial"``
    Each epoch draws ``round(Σ T)`` samples with replacement, with probabilities ``T / Σ T``
    (``torch.utils.data.WeightedRandomSampler``); requires one sample per group.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from curate.balance._formulation import _mix

__all__ = ["UNIT", "EpochState", "Systematic", "bernoulli_draw", "group_keys", "member_rank",
           "multinomial_draw", "quantize"]

#: Fixed-point units per expected copy and per coverage epoch: totals are multiples of
#: ``1 / (W · UNIT)``.
UNIT = 1 << 20
#: Seeded (group orders, lattice offsets) tried by :class:`Systematic`; the best is kept ...
LAYOUT_CANDIDATES = (64, 16)
#: ... while candidates x phases x max(non-zeros, groups) stays below this.
LAYOUT_WORK = 100_000_000

def _hash(seed: int, salt: int, values: np.ndarray) -> np.ndarray:
    """A seeded 64-bit hash of every value (counter-based: no RNG state)."""
    with np.errstate(over="ignore"):
        key = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        key += np.uint64((seed * 0x2545F4914F6CDD1D + salt) % (1 << 64))
        return _mix(key)


def quantize(y: np.ndarray, y_lo: np.ndarray, y_hi: np.ndarray, size_lo: int, size_hi: int,
             window: int) -> np.ndarray:
    """Round expected group totals to multiples of ``1 / (window · UNIT)`` with a whole sum.

    Bounds are kept (they are multiples of ``1 / window`` of whole group sizes, so exact),
    and the sum is moved to the nearest whole number in ``[size_lo, size_hi]`` by single-unit
    steps on the groups with the most room, lowest group id first.

    Examples
    --------
    >>> import numpy as np
    >>> q = quantize(np.array([0.5000000001, 1.4999999999]), np.array([0.5, 0.5]),
    ...              np.array([4.0, 4.0]), 2, 2, 2)
    >>> q.tolist(), float(q.sum())
    ([0.5, 1.5], 2.0)
    """
    scale = window * UNIT
    lo = np.ceil(np.round(y_lo * scale, 3)).astype(np.int64)
    hi = np.floor(np.round(y_hi * scale, 3)).astype(np.int64)
    q = np.clip(np.rint(y * scale).astype(np.int64), lo, hi)
    least = -(-int(lo.sum()) // scale)  # whole sums the bounds can reach
    most = int(hi.sum()) // scale
    want = int(np.clip(np.clip(round(int(q.sum()) / scale), size_lo, size_hi), least, most))
    want *= scale
    diff = want - int(q.sum())
    while diff:
        sign = 1 if diff > 0 else -1
        room = (hi - q) if sign > 0 else (q - lo)
        open_ = np.flatnonzero(room > 0)
        if open_.size == 0:
            break
        open_ = open_[np.argsort(-room[open_], kind="stable")]
        move = np.minimum(room[open_], -(-abs(diff) // open_.size))  # an even share each
        reach = np.cumsum(move)
        last = int(np.searchsorted(reach, abs(diff)))
        if last < move.size:  # stop exactly at |diff|
            move[last] -= int(reach[last]) - abs(diff)
            move[last + 1:] = 0
        q[open_] += sign * move
        diff -= sign * int(move.sum())
    return q / scale


def group_keys(presence: sp.csr_matrix, class_totals: np.ndarray) -> np.ndarray:
    """Sort keys of groups for systematic rounding: rank of the rarest and second rarest class.

    ``presence`` is the (n_groups, n_classes) 0/1 matrix; ``class_totals`` ranks the classes
    (smallest first). Returns an array of shape (2, n_groups); groups without classes get
    ``n_classes`` (they sort last).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = sp.csr_matrix([[1, 0, 0], [0, 0, 1], [1, 1, 0], [0, 0, 0]])
    >>> group_keys(p, np.array([10, 5, 1])).tolist()
    [[2, 0, 1, 3], [3, 3, 2, 3]]
    """
    m = sp.csr_matrix(presence)
    n_groups, n_classes = m.shape
    rank = np.empty(n_classes, dtype=np.int64)
    rank[np.argsort(class_totals, kind="stable")] = np.arange(n_classes)
    first = np.full(n_groups, n_classes, dtype=np.int64)
    second = np.full(n_groups, n_classes, dtype=np.int64)
    nnz = np.diff(m.indptr)
    if m.nnz:
        rows = np.repeat(np.arange(n_groups), nnz)
        r = rank[m.indices]
        np.minimum.at(first, rows, r)
        r2 = np.where(r == first[rows], n_classes, r)
        np.minimum.at(second, rows, r2)
    return np.stack([first, second])


def group_layout(presence: sp.csr_matrix, counts: sp.spmatrix, class_sizes: np.ndarray,
                 balanced: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
    """The :class:`Systematic` sort ``keys`` and layout ``score`` of a plan's groups.

    ``presence`` and ``counts`` have one row per group (0/1 and counted label vectors),
    ``class_sizes`` ranks the classes (:func:`group_keys`) and ``balanced`` holds the column
    positions of the balanced classes (the score's columns). The single-machine plan and the
    group-level plan of the engine both lay their groups out with it, so they draw alike.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_matrix([[2, 0], [0, 1]])
    >>> keys, score = group_layout(m.sign(), m, np.array([2.0, 1.0]), np.array([1]))
    >>> keys.tolist(), score.toarray().tolist()
    ([[1, 0], [2, 2]], [[0.0], [1.0]])
    """
    keys = group_keys(presence, class_sizes)
    score = sp.csr_matrix(counts)[:, balanced].tocsr().astype(np.float64)
    return keys, score


#: rows ranked per block by :func:`member_rank` (its sort and temporaries stay this size)
_RANK_BLOCK = 1 << 22


def member_rank(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of every sample among its group's members, in row order.

    Blockwise, with a running count per group: the temporaries are one block's, not
    several int64 arrays of every sample (at 10^8 samples that was 3 GB at its peak).
    int32 while the rows fit (the ranks are below the row count), else int64.

    Examples
    --------
    >>> member_rank(np.array([0, 1, 0, 0, 1]), 2).tolist()
    [0, 0, 1, 2, 1]
    """
    n = len(group)
    rank = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    seen = np.zeros(n_groups, dtype=np.int64)  # members of each group in earlier blocks
    for lo in range(0, n, _RANK_BLOCK):
        g = np.asarray(group[lo:lo + _RANK_BLOCK], dtype=np.int64)
        order = np.argsort(g, kind="stable")
        counts = np.bincount(g, minlength=n_groups)
        starts = np.cumsum(counts) - counts
        local = np.empty(len(g), dtype=np.int64)
        local[order] = np.arange(len(g), dtype=np.int64) - starts[g[order]]
        rank[lo:lo + len(g)] = local + seen[g]
        seen += counts
    return rank


@dataclass(frozen=True, eq=False)
class Systematic:
    """Systematic rounding of fixed-point group totals (see the module docstring).

    Parameters are the plan's arrays: ``group`` per sample, ``total`` per group, the group
    sort ``keys`` (:func:`group_keys`), the coverage ``window`` (``None``: whole totals, the
    same copies every epoch), the ``seed`` and the ``score`` matrix (groups × balanced
    classes, counts) by which candidate layouts are compared.

    The layout (group order and lattice offset) is chosen among seeded candidates: orders
    sorted by ``keys`` with seeded tie-breaks inside each key, and offsets; the one whose
    worst phase deviates least (sum of squared class-total deviations) from the expected
    totals wins. The search is a pure function of the plan, so every process agrees on it;
    its size is bounded by :data:`LAYOUT_WORK`.
    """

    group: np.ndarray
    total: np.ndarray
    keys: np.ndarray
    window: int | None
    seed: int
    score: sp.csr_matrix | None = None
    #: members per group; ``None`` counts them in ``group``. Given with an empty ``group``,
    #: the object is group-level only: :meth:`draw_rows` works on any rows' (group, rank).
    sizes: np.ndarray | None = None

    @cached_property
    def _scale(self) -> int:
        return (self.window or 1) * UNIT

    @cached_property
    def _parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(whole part, fractional units) per group."""
        q = np.rint(self.total * self._scale).astype(np.int64)
        whole, frac = np.divmod(q, self._scale)
        return whole, frac

    def _order(self, candidate: int) -> np.ndarray:
        ids = np.arange(len(self.total))
        tie = ids if candidate == 0 else _hash(self.seed, 7 + candidate, ids)
        return np.lexsort((tie, self.keys[1], self.keys[0]))

    def _starts(self, order: np.ndarray) -> np.ndarray:
        _, frac = self._parts
        start = np.zeros(len(frac), dtype=np.int64)
        start[order] = np.cumsum(frac[order]) - frac[order]
        return start

    @cached_property
    def _units(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(whole part, fractional units, start of each group's interval) per group."""
        whole, frac = self._parts
        return whole, frac, self._starts(self._layout[0])

    @cached_property
    def _members(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(members per group, member rank per sample, seeded start offset per group)."""
        n_groups = len(self.total)
        sizes = (np.bincount(self.group, minlength=n_groups).astype(np.int64)
                 if self.sizes is None else np.asarray(self.sizes, dtype=np.int64))
        offset = (_hash(self.seed, 5, np.arange(n_groups)) % np.maximum(sizes, 1)
                  .astype(np.uint64)).astype(np.int64)
        return sizes, member_rank(self.group, n_groups), offset

    @cached_property
    def _layout(self) -> tuple[np.ndarray, int]:
        """(group order, lattice offset) with the least worst-phase deviation (see class doc)."""
        n_orders, n_offsets = LAYOUT_CANDIDATES
        offsets = (_hash(self.seed, 3, np.arange(n_offsets)) % np.uint64(self._scale)).tolist()
        _, frac = self._parts
        if self.score is None or self.score.nnz == 0 or not frac.any():
            return self._order(0), int(offsets[0])
        phases = self.window or 1
        budget = max(1, LAYOUT_WORK // (max(self.score.nnz, len(frac)) * phases))
        n_orders = max(1, min(n_orders, budget // n_offsets))
        n_offsets = max(1, min(n_offsets, budget // n_orders))
        at = self.score.T.tocsr()
        whole = self._parts[0].astype(np.float64)
        expected = at @ self.total
        best: tuple[float, int, int] | None = None
        for c in range(n_orders):
            start = self._starts(self._order(c))
            for u in offsets[:n_offsets]:
                worst = 0.0
                for phase in range(phases):
                    hits = self._lattice_hits(start, frac, int(u), phase)
                    dev = at @ (whole + hits) - expected
                    worst = max(worst, float(dev @ dev))
                if best is None or worst < best[0] - 1e-9:
                    best = (worst, c, int(u))
        assert best is not None
        return self._order(best[1]), best[2]

    @cached_property
    def _u0(self) -> int:
        return self._layout[1]

    def _hits(self, phase: int) -> np.ndarray:
        """0/1 extra copy per group at the ``phase``-th of the ``W`` offsets."""
        _, frac, start = self._units
        return self._lattice_hits(start, frac, self._u0, phase)

    def _lattice_hits(self, start: np.ndarray, frac: np.ndarray, u0: int,
                      phase: int) -> np.ndarray:
        """Points ``o + jQ`` (``o = u0 + phase · UNIT``) in each interval ``[start, start +
        frac)``: 0 or 1 per group."""
        o = (u0 + phase * UNIT) % self._scale
        q = self._scale
        return (np.floor_divide(start + frac - 1 - o, q)
                - np.floor_divide(start - 1 - o, q)).astype(np.int64)

    def group_totals(self, epoch: int) -> np.ndarray:
        """Whole copies of every group in ``epoch``."""
        whole, _, _ = self._units
        return whole + self._hits(epoch % (self.window or 1))

    def _drawn_before(self, epoch: int) -> np.ndarray:
        """Copies of every group in epochs ``0 .. epoch - 1`` (where this epoch's window starts)."""
        if self.window is None or epoch == 0:
            return np.zeros(len(self.total), dtype=np.int64)
        whole, _, _ = self._units
        w = self.window
        full, part = divmod(epoch, w)
        done = epoch * whole
        if full:
            period = sum((self._hits(j) for j in range(w)), np.zeros(len(whole), np.int64))
            done = done + full * period
        for j in range(part):
            done = done + self._hits(j)
        return done

    def epoch_state(self, epoch: int) -> EpochState:
        """Everything a row's copies in ``epoch`` depend on, per group (see :class:`EpochState`)."""
        sizes, _, offset = self._members
        safe = np.maximum(sizes, 1)
        totals = self.group_totals(epoch)
        start = (self._drawn_before(epoch) + offset) % safe
        base, rem = np.divmod(totals, safe)
        return EpochState(base, rem, start, safe)

    def draw_rows(self, epoch: int, group: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """Whole copies in ``epoch`` of the rows with these groups and member ranks.

        ``rank`` is a row's position among *all* members of its group in row order
        (:func:`member_rank` over the whole dataset); any subset of rows, in any order, gets
        exactly its entries of :meth:`draw`.
        """
        return self.epoch_state(epoch).draw(group, rank)

    def draw(self, epoch: int) -> np.ndarray:
        """Whole copies of every sample in ``epoch``."""
        _, rank, _ = self._members
        return self.draw_rows(epoch, self.group, rank)


@dataclass(frozen=True, eq=False)
class EpochState:
    """Per-group state of one epoch's systematic draw: a row's copies from its (group, rank).

    Group ``g`` spreads ``base[g] · size[g] + rem[g]`` copies over its members: each gets
    ``base[g]``, and the ``rem[g]`` members from ``start[g]`` on (cyclically, in member rank
    order) one more. ``size`` holds ``max(members, 1)``. Small (four arrays of ``n_groups``):
    made once per epoch and shipped to every worker.

    Examples
    --------
    >>> import numpy as np
    >>> s = EpochState(np.array([0]), np.array([2]), np.array([3]), np.array([4]))
    >>> s.draw(np.array([0, 0, 0, 0]), np.array([0, 1, 2, 3])).tolist()
    [1, 0, 0, 1]
    """

    base: np.ndarray
    rem: np.ndarray
    start: np.ndarray
    size: np.ndarray

    def draw(self, group: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """Whole copies of rows with these group ids and member ranks.

        Parameters
        ----------
        group, rank : ndarray of int, same shape
            Group id and member rank (among all members of the group) of every row.

        Returns
        -------
        ndarray of int64

        Examples
        --------
        >>> import numpy as np
        >>> s = EpochState(np.array([1]), np.array([1]), np.array([0]), np.array([2]))
        >>> s.draw(np.array([0, 0]), np.array([1, 0])).tolist()
        [1, 2]
        """
        group, rank = np.asarray(group), np.asarray(rank)
        out = np.empty(group.shape, dtype=np.int64)
        flat_g, flat_r, flat_out = group.reshape(-1), rank.reshape(-1), out.reshape(-1)
        for lo in range(0, flat_g.size, _RANK_BLOCK):  # block temporaries, not per-row ones
            g = flat_g[lo:lo + _RANK_BLOCK].astype(np.int64)
            r = flat_r[lo:lo + _RANK_BLOCK].astype(np.int64)
            extra = ((r - self.start[g]) % self.size[g]) < self.rem[g]
            np.add(self.base[g], extra, out=flat_out[lo:lo + _RANK_BLOCK])
        return out


def bernoulli_draw(group: np.ndarray, total: np.ndarray, seed: int, epoch: int,
                   rank: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Stochastic rounding per group, copies on a window of members moving per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([0, 0, 0, 0])
    >>> x = bernoulli_draw(g, np.array([2.0]), 0, 1, member_rank(g, 1), np.array([4]))
    >>> x.tolist()
    [0, 0, 1, 1]
    """
    floor = np.floor(total)
    if np.all(total == floor):
        totals = floor.astype(np.int64)
    else:
        rng = np.random.default_rng([seed, epoch, 1])
        totals = (floor + (rng.random(len(total)) < total - floor)).astype(np.int64)
    safe = np.maximum(sizes, 1)
    base, rem = np.divmod(totals, safe)
    start = np.floor(epoch * total).astype(np.int64) % safe
    extra = ((rank - start[group]) % safe[group]) < rem[group]
    return base[group] + extra.astype(np.int64)


def multinomial_draw(expected: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """``round(Σ expected)`` draws with replacement, probabilities ``expected / Σ expected``.

    Examples
    --------
    >>> import numpy as np
    >>> x = multinomial_draw(np.array([1.0, 0.0, 3.0]), 0, 0)
    >>> int(x.sum()), int(x[1])
    (4, 0)
    """
    total = float(expected.sum())
    size = round(total)
    if size == 0:
        return np.zeros(len(expected), dtype=np.int64)
    rng = np.random.default_rng([seed, epoch, 4])
    return rng.multinomial(size, expected / total).astype(np.int64)
