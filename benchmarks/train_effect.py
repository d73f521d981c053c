"""Does curate help a model trained on imbalanced data? An honest effect benchmark.

Five real public label sets, two model sizes, up to fourteen training configurations, three
seeds, paired bootstrap intervals over the test samples.

Data (``../shared/datasets``, or ``$CURATE_DATASETS``):

* ``trec_text`` (6 coarse question classes) and ``ohsumed_text`` (23 MeSH disease classes):
  single-label text, TF-IDF features (scikit-learn ``TfidfVectorizer`` fitted on the training
  part), official train/test split;
* ``mulan_yeast`` (14 labels, 103 features, official split) and ``mulan_emotions`` (6 labels,
  72 features, no official split: a fixed 30 % test carve): multi-label, given features,
  standardised with training statistics;
* ``wnut17_ner`` (BIO tags, 6 entity types): the word + shape + char-CNN BiLSTM tagger,
  trained on ``train``, scored on ``test``.

Models: ``linear`` (one linear layer) and ``mlp`` (one hidden layer of 128 ReLU units,
dropout 0.3), in torch on the CPU; TF-IDF inputs go through ``nn.EmbeddingBag`` (a sparse
linear layer, the same function as a dense one on the TF-IDF vector).

Protocol: a validation carve from the training split (15 %, stratified for single-label
data, fixed across seeds) is the only data used to choose anything: the early-stopping epoch
(best validation macro-F1 / mAP / entity macro-F1, evaluated once per epoch-equivalent of
optimiser steps), ``tau`` of the post-hoc adjustment (``curate.tune_tau``), the per-class
thresholds (``curate.tune_thresholds``), ``tau`` of the logit-adjusted loss, the options of
the tuned balancer plan, and the "best curate configuration" of the summary. Every
configuration gets the same maximum number of optimiser steps. Seeds change the model
initialisation, dropout and the samplers. Test differences to ``none`` come with a paired
bootstrap 95 % interval: the same resampled test sets score every configuration, the
difference is averaged over the seeds inside each resample, and the 2.5 / 97.5 percentiles
are reported.

Usage::

    python benchmarks/train_effect.py                 # full run (3 seeds), ~15 min on 2 cores
    python benchmarks/train_effect.py --quick         # smoke run (< 60 s): 1 seed, subsets
    python benchmarks/train_effect.py --datasets trec_text --configs none focal

Results go to ``benchmarks/results/train_effect.json``; ``render_docs.py`` renders them into
``docs/benchmarks.md`` and ``docs/guide.md`` states what they mean.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, peak_rss_mb, print_table, write_results

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CURATE_DATASETS", ROOT.parent / "shared" / "datasets"))

SINGLE = ("trec_text", "ohsumed_text")
MULTI = ("mulan_yeast", "mulan_emotions")
NER = ("wnut17_ner",)
DATASET_NAMES = SINGLE + MULTI + NER
MODELS = ("linear", "mlp")
SINGLE_CONFIGS = ("none", "none+posthoc_la", "balanced", "effective", "inverse_sqrt", "focal",
                  "balanced_softmax", "logit_adjusted", "sampler_default", "sampler_tuned",
                  "weighted_sampler", "repeat_factor")
MULTI_CONFIGS = ("none", "balanced", "effective", "inverse_sqrt", "focal",
                 "distribution_balanced", "sampler_default", "sampler_tuned",
                 "weighted_sampler", "repeat_factor")
NER_CONFIGS = ("none", "none+posthoc_la", "inverse_sqrt", "sampler_default")
CONFIGS = tuple(dict.fromkeys(SINGLE_CONFIGS + MULTI_CONFIGS + NER_CONFIGS))
SAMPLERS = ("sampler_default", "sampler_tuned", "weighted_sampler", "repeat_factor")
POSTHOC = "none+posthoc_la"  # no training of its own: the `none` model, adjusted
LA_TAUS = (0.5, 2.0)  # logit-adjusted loss; tau = 1 is balanced_softmax (the same loss)
# Candidate InterClassBalancer options of `sampler_tuned`, picked on validation: a bolder plan,
# a milder one (fewer copies and sit-outs) and rare samples kept every epoch.
TUNED_PLANS: dict[str, dict[str, Any]] = {
    "costs 0.1": {"duplicate_cost": 0.1, "removal_cost": 0.1},
    "costs 2": {"duplicate_cost": 2.0, "removal_cost": 2.0},
    "minimize_duplicates": {"minimize_duplicates": True},
}
REPEAT_THRESHOLD = 0.1
FOCAL_GAMMA = 2.0
HIDDEN = 64
VAL_FRACTION = 0.15


@dataclass(frozen=True)
class Budget:
    """Optimiser budget of one dataset (the same for every configuration)."""

    max_epochs: int  # epoch-equivalents: ceil(n_train / batch_size) optimiser steps each
    patience: int  # early stop after this many epochs without a better validation score
    batch_size: int
    lr: dict[str, float]  # per model
    subset: int | None = None  # --quick: at most this many train / test samples
    n_boot: int = 1000


LR = {"linear": 2e-2, "mlp": 5e-3, "bilstm": 1e-2}
FULL = {
    "trec_text": Budget(30, 4, 64, LR),
    "ohsumed_text": Budget(30, 4, 64, LR),
    "mulan_yeast": Budget(60, 8, 64, LR),
    "mulan_emotions": Budget(80, 10, 32, LR),
    "wnut17_ner": Budget(30, 5, 64, LR),  # the plain tagger plateaus near epoch 16-20
}
QUICK = {name: Budget(2, 1, 64, LR, subset=250, n_boot=50) for name in DATASET_NAMES}


def configs_of(name: str) -> tuple[str, ...]:
    """The configurations measured on one dataset."""
    return SINGLE_CONFIGS if name in SINGLE else MULTI_CONFIGS if name in MULTI else NER_CONFIGS


def _rarest_third(counts: np.ndarray) -> list[int]:
    """Indices of the ceil(K/3) classes with the fewest training instances (ties by index)."""
    k = math.ceil(len(counts) / 3)
    return [int(i) for i in np.lexsort((np.arange(len(counts)), counts))[:k]]


# ----------------------------------------------------------------------------- data
@dataclass
class Flat:
    """A single- or multi-label dataset as model inputs: one matrix per split."""

    name: str
    kind: str  # "single" | "multi"
    classes: list[str]
    x: dict[str, Any]  # split -> scipy CSR (TF-IDF) or float32 tensor (given features)
    y: dict[str, np.ndarray]  # single: int64 (n,); multi: float32 0/1 (n, K)
    table: Any  # curate.LabelTable of the training part (classes in this order)
    counts: np.ndarray  # training instances per class
    rare: list[int]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def sparse(self) -> bool:
        return sp.issparse(self.x["train"])

    @property
    def n_in(self) -> int:
        return int(self.x["train"].shape[1])

    def n(self, split: str) -> int:
        return int(self.x[split].shape[0])

    @property
    def priors(self) -> np.ndarray:
        """Training class priors (add-one smoothed only when a class has no count)."""
        from curate.losses import priors_from

        return priors_from(self.counts, smoothing=1.0 if self.counts.min() == 0 else 0.0)


def _carve(n: int, strata: np.ndarray | None, fraction: float, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray]:
    """(keep, carved) index arrays; stratified when every stratum has 2+ members."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    strat = strata if strata is not None and np.bincount(strata).min() >= 2 else None
    keep, carved = train_test_split(idx, test_size=fraction, random_state=seed, stratify=strat)
    return np.sort(keep), np.sort(carved)


def _subset(idx: np.ndarray, limit: int | None) -> np.ndarray:
    """``idx`` itself, or (``--quick``) a fixed random subset of at most ``limit`` of them."""
    if limit is None or len(idx) <= limit:
        return idx
    return np.sort(np.random.default_rng(0).choice(idx, size=limit, replace=False))


def load_text(name: str, budget: Budget) -> Flat:
    """TF-IDF of the documents (fitted on the training part), official train/test split."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    import curate

    df = pd.read_parquet(DATASETS / name / "labels.parquet", columns=["text", "label", "split"])
    classes = sorted(df["label"].unique().tolist())
    cid = {c: i for i, c in enumerate(classes)}
    y_all = df["label"].map(cid).to_numpy(np.int64)
    train = _subset(np.flatnonzero((df["split"] == "train").to_numpy()), budget.subset)
    test = _subset(np.flatnonzero((df["split"] == "test").to_numpy()), budget.subset)
    keep, val = _carve(len(train), y_all[train], VAL_FRACTION)
    parts = {"train": train[keep], "val": train[val], "test": test}
    texts = df["text"].to_numpy()
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=8000, dtype=np.float32)
    vec.fit(texts[parts["train"]])
    x = {s: sp.csr_matrix(vec.transform(texts[i]), dtype=np.float32) for s, i in parts.items()}
    y = {s: y_all[i] for s, i in parts.items()}
    table = curate.LabelTable.from_labels([[classes[k]] for k in y["train"]], classes=classes)
    counts = np.bincount(y["train"], minlength=len(classes))
    return Flat(name, "single", classes, x, y, table, counts, _rarest_third(counts),
                info={"train": len(y["train"]), "val": len(y["val"]), "test": len(y["test"]),
                      "classes": len(classes), "tfidf features": len(vec.vocabulary_),
                      "max/min class count": round(float(counts.max() / max(counts.min(), 1)), 1)})


def load_mulan(name: str, budget: Budget) -> Flat:
    """Given numeric features, standardised with training statistics; multi-hot targets."""
    import curate

    root = DATASETS / name
    feats = pd.read_parquet(root / "features.parquet")
    labels = pd.read_parquet(root / "labels.parquet")
    if not (feats["sample_id"].to_numpy() == labels["sample_id"].to_numpy()).all():
        raise RuntimeError(f"{name}: features.parquet and labels.parquet rows are not aligned")
    x_all = feats.drop(columns="sample_id").to_numpy(np.float32)
    lab_all = [list(v) for v in labels["labels"]]
    classes = list(dict.fromkeys(c for c in _label_order(root, lab_all)))
    n = len(lab_all)
    if "split" in labels.columns:  # official split (yeast)
        train = np.flatnonzero((labels["split"] == "train").to_numpy())
        test = np.flatnonzero((labels["split"] != "train").to_numpy())
        split_note = "official train/test split"
    else:  # emotions: a fixed 30 % test carve
        keep, carved = _carve(n, None, 0.30)
        train, test = keep, carved
        split_note = "no official split: fixed random 30 % test carve (seed 0)"
    train, test = _subset(train, budget.subset), _subset(test, budget.subset)
    keep, val = _carve(len(train), None, VAL_FRACTION)
    parts = {"train": train[keep], "val": train[val], "test": test}
    mean = x_all[parts["train"]].mean(0)
    std = x_all[parts["train"]].std(0) + 1e-6
    col = {c: j for j, c in enumerate(classes)}
    y_all = np.zeros((n, len(classes)), np.float32)
    for i, labs in enumerate(lab_all):
        for c in labs:
            y_all[i, col[c]] = 1.0
    x = {s: torch.from_numpy((x_all[i] - mean) / std) for s, i in parts.items()}
    y = {s: y_all[i] for s, i in parts.items()}
    table = curate.LabelTable.from_labels([lab_all[i] for i in parts["train"]], classes=classes)
    counts = y["train"].sum(0).astype(np.int64)
    return Flat(name, "multi", classes, x, y, table, counts, _rarest_third(counts),
                info={"train": len(parts["train"]), "val": len(parts["val"]),
                      "test": len(parts["test"]), "features": int(x_all.shape[1]),
                      "labels": len(classes), "split": split_note,
                      "max/min label count": round(float(counts.max() / max(counts.min(), 1)),
                                                   1)})


def _label_order(root: Path, labels: list[list[str]]) -> list[str]:
    """Labels in their natural order: ``ClassN`` numerically, others by first appearance."""
    seen = list(dict.fromkeys(c for labs in labels for c in labs))
    if all(c.startswith("Class") and c[5:].isdigit() for c in seen):
        return sorted(seen, key=lambda c: int(c[5:]))
    return seen


# ----------------------------------------------------------------------------- models
class FlatNet(nn.Module):
    """``linear`` (hidden=None) or one hidden ReLU layer; sparse inputs via EmbeddingBag."""

    def __init__(self, n_in: int, n_out: int, hidden: int | None, sparse: bool) -> None:
        super().__init__()
        width = hidden or n_out
        self.sparse = sparse
        self.first: nn.Module
        if sparse:
            self.first = nn.EmbeddingBag(n_in, width, mode="sum")
            nn.init.normal_(self.first.weight, std=0.1)
        else:
            self.first = nn.Linear(n_in, width, bias=False)
        self.bias = nn.Parameter(torch.zeros(width))
        self.head = (nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(width, n_out))
                     if hidden else None)

    def forward(self, x: Any) -> torch.Tensor:
        h = (self.first(x[0], x[1], per_sample_weights=x[2]) if self.sparse
             else self.first(x)) + self.bias
        return self.head(h) if self.head is not None else h


def flat_inputs(flat: Flat, split: str, idx: np.ndarray | None = None) -> Any:
    """Model input of some rows of a split (all rows when ``idx`` is None)."""
    x = flat.x[split]
    if not flat.sparse:
        return x if idx is None else x[torch.from_numpy(idx)]
    sub = x if idx is None else x[idx]
    return (torch.from_numpy(sub.indices.astype(np.int64)),
            torch.from_numpy(sub.indptr[:-1].astype(np.int64)),
            torch.from_numpy(sub.data))


# ----------------------------------------------------------------------------- samplers
class Uniform(torch.utils.data.Sampler[int]):
    """Plain per-epoch permutation with its own seeded generator (the ``none`` baseline)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def sample_weights(counts: np.ndarray, members: Sequence[Sequence[int]]) -> np.ndarray:
    """WeightedSampler weights: mean ``1 / n_c`` over a sample's classes (class-balanced draws
    for single-label data); a sample without a class gets the smallest weight."""
    inv = 1.0 / np.maximum(counts, 1)
    w = np.array([inv[list(m)].mean() if len(m) else np.nan for m in members])
    return np.where(np.isnan(w), np.nanmin(w), w)


def make_plans(table: Any, n: int, names: Sequence[str],
               tuned: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every plan the sampler configurations draw from (deterministic, seed 0)."""
    import curate
    from curate.balance.baselines import repeat_factor

    plans: dict[str, Any] = {}
    if "sampler_default" in names:
        plans["default"] = curate.InterClassBalancer(seed=0).fit(table)
    if "sampler_tuned" in names:
        for label, opts in (TUNED_PLANS if tuned is None else tuned).items():
            plans[label] = curate.InterClassBalancer(seed=0, **opts).fit(table)
    if "repeat_factor" in names:
        plans["repeat_factor"] = repeat_factor(table, REPEAT_THRESHOLD, seed=0)
    return plans


def make_sampler(config: str, n: int, seed: int, plan: Any, weights: np.ndarray | None
                 ) -> Any:
    """The sampler of one configuration (``plan`` for the BalancedSampler ones)."""
    import curate

    if config == "weighted_sampler":
        assert weights is not None
        return curate.WeightedSampler(weights, num_samples=n, seed=seed)
    if config in SAMPLERS:
        return curate.BalancedSampler(plan, seed=seed)
    return Uniform(n, seed)


def never_drawn(plan: Any, epochs: int) -> list[float]:
    """Fraction of samples never drawn after 1..epochs epochs of ``plan.draw``."""
    seen = np.zeros(plan.n_samples, dtype=bool)
    out = []
    for e in range(epochs):
        seen |= np.asarray(plan.draw(e)) > 0
        out.append(float(1.0 - seen.mean()))
    return out


# ----------------------------------------------------------------------------- training
@dataclass
class Fit:
    """A trained model (best validation epoch restored) and how it got there."""

    model: nn.Module
    best_epoch: int
    epochs_run: int
    curve: list[float]  # validation score after every epoch-equivalent
    never_drawn: list[float]  # cumulative never-drawn fraction after each sampler epoch
    seconds: float


def train(make_model: Callable[[], nn.Module], loss_fn: nn.Module, sampler: Any, n: int,
          batch: Callable[[np.ndarray], tuple[Any, torch.Tensor]],
          validate: Callable[[nn.Module], float], budget: Budget, lr: float, seed: int,
          reshape: bool = False) -> Fit:
    """Adam, ``budget.max_epochs`` epoch-equivalents of ``ceil(n / batch)`` steps, early stop.

    Batches come from consecutive sampler epochs (``set_epoch`` before each), so a sampler
    whose epoch is longer or shorter than ``n`` gets the same number of optimiser steps per
    epoch-equivalent as the uniform one.
    """
    t0 = time.perf_counter()
    torch.manual_seed(seed)  # model initialisation and dropout; samplers own their generators
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = math.ceil(n / budget.batch_size)
    seen = np.zeros(n, dtype=bool)
    coverage: list[float] = []

    def stream() -> Iterator[np.ndarray]:
        epoch = 0
        while True:
            sampler.set_epoch(epoch)
            order = np.fromiter(iter(sampler), dtype=np.int64)
            seen[order] = True
            coverage.append(float(1.0 - seen.mean()))
            for s in range(0, len(order), budget.batch_size):
                yield order[s : s + budget.batch_size]
            epoch += 1

    batches = stream()
    best, best_epoch, bad = -math.inf, 0, 0
    best_state = copy.deepcopy(model.state_dict())
    curve: list[float] = []
    for epoch in range(budget.max_epochs):
        model.train()
        for _ in range(steps):
            inputs, target = batch(next(batches))
            logits = model(inputs)
            if reshape:
                logits, target = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
            loss = loss_fn(logits, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            score = float(validate(model))
        curve.append(score)
        if score > best:
            best, best_epoch, bad = score, epoch + 1, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= budget.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return Fit(model, best_epoch, len(curve), curve, coverage, time.perf_counter() - t0)


# ----------------------------------------------------------------------------- BiLSTM tagger
PAD, UNK = 0, 1
MAX_WORD_LEN = 20
SHAPES = ("pad", "lower", "title", "upper", "mixed", "digit", "mention", "hashtag", "url", "other")


def word_shape(token: str) -> int:
    """Casing / Twitter shape of a token (the word vocabulary is lower-cased)."""
    if token.startswith("@") and len(token) > 1:
        shape = "mention"
    elif token.startswith("#") and len(token) > 1:
        shape = "hashtag"
    elif token.lower().startswith(("http", "www.")):
        shape = "url"
    elif any(ch.isdigit() for ch in token):
        shape = "digit"
    elif not any(ch.isalpha() for ch in token):
        shape = "other"
    elif token.islower():
        shape = "lower"
    elif token.isupper():
        shape = "upper"
    elif token[0].isupper() and token[1:].islower():
        shape = "title"
    else:
        shape = "mixed"
    return SHAPES.index(shape)


class CharWordBiLSTM(nn.Module):
    """Word embedding ⊕ word shape ⊕ char-CNN word vector → BiLSTM → per-token tag logits."""

    def __init__(self, n_words: int, n_chars: int, n_tags: int, *, word_dim: int = 64,
                 shape_dim: int = 8, char_dim: int = 24, char_filters: int = 48,
                 hidden: int = 64) -> None:
        super().__init__()
        self.word = nn.Embedding(n_words, word_dim, padding_idx=PAD)
        self.shape = nn.Embedding(len(SHAPES), shape_dim, padding_idx=PAD)
        self.char = nn.Embedding(n_chars, char_dim, padding_idx=PAD)
        self.conv = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
        self.lstm = nn.LSTM(word_dim + shape_dim + char_filters, hidden, batch_first=True,
                            bidirectional=True)
        self.drop = nn.Dropout(0.25)
        self.out = nn.Linear(2 * hidden, n_tags)

    def forward(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        words, shapes, chars, lengths = inputs  # (B, T), (B, T), (B, T, L), (B,)
        b, t, _ = chars.shape
        real = torch.arange(t) < lengths[:, None]  # (B, T): tokens, not padding
        c = self.char(chars[real]).transpose(1, 2)  # (tokens, C, L): padding skipped
        c = torch.relu(self.conv(c)).max(dim=2).values
        feats = c.new_zeros(b, t, c.shape[-1])
        feats[real] = c  # padded positions never reach the LSTM (packed) or the loss
        h = torch.cat([self.word(words), self.shape(shapes), feats], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed._replace(data=self.drop(packed.data)))  # real tokens only
        logits = out._replace(data=self.out(self.drop(out.data)))
        return nn.utils.rnn.pad_packed_sequence(logits, batch_first=True,
                                                total_length=t)[0]  # (B, T, n_tags)


def _encode(sentences: Sequence[Sequence[str]], words: dict[str, int],
            chars: dict[str, int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    encoded = []
    for sent in sentences:
        w = np.array([words.get(tok.lower(), UNK) for tok in sent], dtype=np.int64)
        h = np.array([word_shape(tok) for tok in sent], dtype=np.int64)
        c = np.zeros((len(sent), MAX_WORD_LEN), dtype=np.int64)
        for j, tok in enumerate(sent):
            ids = [chars.get(ch, UNK) for ch in tok[:MAX_WORD_LEN]]
            c[j, : len(ids)] = ids
        encoded.append((w, h, c))
    return encoded


def _pad(items: list[tuple[np.ndarray, np.ndarray, np.ndarray]], tags: list[np.ndarray] | None,
         device: torch.device, word_dropout: float = 0.0,
         rng: np.random.Generator | None = None) -> tuple[Any, torch.Tensor | None]:
    lengths = np.array([len(it[0]) for it in items])
    t = int(lengths.max())
    words = np.zeros((len(items), t), dtype=np.int64)
    shapes = np.zeros((len(items), t), dtype=np.int64)
    chars = np.zeros((len(items), t, MAX_WORD_LEN), dtype=np.int64)
    target = np.full((len(items), t), -100, dtype=np.int64)
    for i, (w, h, c) in enumerate(items):
        words[i, : len(w)] = w
        shapes[i, : len(w)] = h
        chars[i, : len(w)] = c
        if tags is not None:
            target[i, : len(w)] = tags[i]
    if word_dropout and rng is not None:  # teach the UNK embedding (test words are unseen)
        words[(rng.random(words.shape) < word_dropout) & (words > UNK)] = UNK
    inputs = (torch.from_numpy(words).to(device), torch.from_numpy(shapes).to(device),
              torch.from_numpy(chars).to(device), torch.from_numpy(lengths))
    return inputs, (torch.from_numpy(target).to(device) if tags is not None else None)




# ----------------------------------------------------------------------------- metrics
# Every metric takes bootstrap weights W of shape (B, n): row b counts how often each test
# sample appears in resample b (a row of ones is the test set itself). Checked against
# scikit-learn and seqeval in tests/test_benchmarks_smoke.py.
def resample_weights(n: int, n_boot: int, seed: int = 2021) -> np.ndarray:
    """(n_boot, n) multiplicities of the test samples in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    return np.stack([np.bincount(r, minlength=n) for r in idx]).astype(np.float64)


def single_metrics(y: np.ndarray, pred: np.ndarray, k: int, w: np.ndarray,
                   rare: Sequence[int]) -> dict[str, np.ndarray]:
    """Macro-F1 (over classes in y or pred, as sklearn), balanced accuracy, rare-third and
    worst-class recall (over classes with support), one value per row of ``w``."""
    n = len(y)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), y * k + pred)), shape=(n, k * k))
    conf = np.asarray((onehot.T @ w.T).T).reshape(len(w), k, k)
    tp = np.diagonal(conf, axis1=1, axis2=2)
    support, predicted = conf.sum(2), conf.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / support, np.nan)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * tp / denom, np.nan)
        return {"macro_f1": np.nanmean(f1, 1), "balanced_accuracy": np.nanmean(recall, 1),
                "rare_recall": _nanmean(recall[:, list(rare)]),
                "worst_recall": _nanmin(recall)}


def _nanmean(a: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a)
    return np.where(ok.any(1), np.where(ok, a, 0).sum(1) / np.maximum(ok.sum(1), 1), np.nan)


def _nanmin(a: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a)
    return np.where(ok.any(1), np.where(ok, a, np.inf).min(1), np.nan)


def weighted_ap(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average precision of one class under sample weights ``w`` (B, n), as sklearn's
    ``average_precision_score(..., sample_weight=w_b)``: tied scores form one threshold.
    NaN where a resample holds no positive."""
    order = np.argsort(-score, kind="stable")
    s, yy = score[order], y[order].astype(np.float64)
    wo = w[:, order]
    tp, fp = np.cumsum(wo * yy, 1), np.cumsum(wo * (1 - yy), 1)
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each tie group
    tp, fp = tp[:, ends], fp[:, ends]
    total = tp[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        gain = np.diff(tp, axis=1, prepend=0.0)
        return np.where(total > 0, (gain * precision).sum(1) / total, np.nan)


def multi_metrics(y: np.ndarray, scores: np.ndarray, pred05: np.ndarray, tuned: np.ndarray,
                  w: np.ndarray, rare: Sequence[int]) -> dict[str, np.ndarray]:
    """mAP (classes with a positive), macro-F1 over all labels at 0.5 and at the tuned
    thresholds (zero_division 0, as sklearn), rare-third recall at the tuned thresholds,
    worst-class AP; one value per row of ``w``."""
    ap = np.stack([weighted_ap(y[:, j], scores[:, j], w) for j in range(y.shape[1])], 1)
    out = {"map": _nanmean(ap), "worst_ap": _nanmin(ap)}
    for key, pred in (("macro_f1_05", pred05), ("macro_f1_tuned", tuned)):
        tp = w @ (y * pred)
        fp = w @ ((1 - y) * pred)
        fn = w @ (y * (1 - pred))
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
            out[key] = f1.mean(1)
            if key == "macro_f1_tuned":
                rec = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
                out["rare_recall"] = _nanmean(rec[:, list(rare)])
    return out


def entity_counts(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]],
                  types: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sentence and entity type: true, predicted and exactly matched entities (seqeval
    default mode, i.e. ``seqeval.metrics.sequence_labeling.get_entities``)."""
    from seqeval.metrics.sequence_labeling import get_entities

    col = {t: j for j, t in enumerate(types)}
    shape = (len(y_true), len(types))
    n_true, n_pred, n_hit = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        te, pe = set(get_entities(list(t))), set(get_entities(list(p)))
        for typ, *_ in te:
            n_true[i, col[typ]] += 1
        for typ, *_ in pe:
            n_pred[i, col[typ]] += 1
        for typ, *_ in te & pe:
            n_hit[i, col[typ]] += 1
    return n_true, n_pred, n_hit


def entity_metrics(counts: tuple[np.ndarray, np.ndarray, np.ndarray], w: np.ndarray,
                   rare: Sequence[int]) -> dict[str, np.ndarray]:
    """Entity macro-F1 (types in truth or prediction, as seqeval), micro-F1, rare-third and
    worst-type recall; one value per row of ``w``."""
    t, p, h = (w @ c for c in counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(t + p > 0, 2 * h / (t + p), np.nan)
        recall = np.where(t > 0, h / t, np.nan)
        tt, pp, hh = t.sum(1), p.sum(1), h.sum(1)
        micro = np.where(tt + pp > 0, 2 * hh / (tt + pp), 0.0)
    return {"macro_f1": _nanmean(f1), "micro_f1": micro,
            "rare_recall": _nanmean(recall[:, list(rare)]), "worst_recall": _nanmin(recall)}


@dataclass
class Scored:
    """One configuration of one model: per-seed point metrics and bootstrap arrays."""

    point: list[dict[str, float]]  # one dict per seed
    boot: list[dict[str, np.ndarray]]
    extra: list[dict[str, Any]]  # per seed: epochs, tau, never drawn, seconds, val score


def score_runs(metric: Callable[[Any, np.ndarray], dict[str, np.ndarray]], preds: list[Any],
               w: np.ndarray, n: int) -> tuple[list[dict[str, float]], list[dict[str, np.ndarray]]]:
    ones = np.ones((1, n))
    point = [{k: float(v[0]) for k, v in metric(p, ones).items()} for p in preds]
    boot = [metric(p, w) for p in preds]
    return point, boot


def delta(a: Scored, b: Scored, key: str) -> tuple[float, float, float]:
    """Mean over seeds of b - a on the test set, and its paired bootstrap 95 % interval."""
    d_point = float(np.mean([pb[key] - pa[key] for pa, pb in zip(a.point, b.point,
                                                                strict=True)]))
    diff = np.mean([bb[key] - ba[key] for ba, bb in zip(a.boot, b.boot, strict=True)], 0)
    lo, hi = np.nanpercentile(diff, [2.5, 97.5])
    return d_point, float(lo), float(hi)


def mean_std(values: Sequence[float]) -> str:
    """``mean ± std`` (sample std, ddof=1; 0 for a single seed), 3 decimals."""
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return f"{arr.mean():.3f} ± {std:.3f}"


def fmt_delta(d: tuple[float, float, float]) -> str:
    return f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"


# ----------------------------------------------------------------------------- experiments
@dataclass
class Outcome:
    """Everything measured on one dataset."""

    name: str
    kind: str  # "single" | "multi" | "ner"
    info: dict[str, Any]
    classes: list[str]
    rare: list[str]
    counts: list[int]
    scored: dict[str, dict[str, Scored]]  # model -> config -> Scored
    plans: dict[str, Any]
    tuned_plan: dict[str, str]  # model -> chosen TUNED_PLANS key
    paradox: dict[str, Any]  # model -> verdict of the plain run (first seed)
    per_class: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    seconds: float = 0.0


def _flat_loss(flat: Flat, config: str, tau: float = 1.0) -> nn.Module:
    import curate
    import curate.losses as L

    single = flat.kind == "single"
    if config in ("balanced", "effective", "inverse_sqrt"):
        cw = curate.class_weights(flat.table, scheme=config)
        if single:
            return L.WeightedCrossEntropy(cw)
        return nn.BCEWithLogitsLoss(pos_weight=cw.to_tensor())  # weight on the positives
    if config == "focal":
        return L.FocalLoss(gamma=FOCAL_GAMMA) if single else L.SigmoidFocalLoss(
            gamma=FOCAL_GAMMA, alpha=None)
    if config == "balanced_softmax":
        return L.BalancedSoftmaxLoss(flat.priors)
    if config == "logit_adjusted":
        return L.LogitAdjustedLoss(flat.priors, tau=tau)
    if config == "distribution_balanced":
        return L.DistributionBalancedLoss(flat.table)
    return nn.CrossEntropyLoss() if single else nn.BCEWithLogitsLoss()


def _logits(model: nn.Module, inputs: Any) -> np.ndarray:
    with torch.no_grad():
        return model(inputs).double().numpy()


def run_flat(name: str, budget: Budget, seeds: Sequence[int], configs: Sequence[str],
             models: Sequence[str], log: Callable[[str], None],
             tuned_plans: dict[str, dict[str, Any]] | None = None) -> Outcome:
    """Train and score every configuration on one single- or multi-label dataset.

    ``tuned_plans``: the candidate options of ``sampler_tuned`` (default ``TUNED_PLANS``).
    """
    import curate
    from curate.metrics import mean_average_precision

    t_start = time.perf_counter()
    flat = load_text(name, budget) if name in SINGLE else load_mulan(name, budget)
    single, k, n = flat.kind == "single", len(flat.classes), flat.n("train")
    y_tr = torch.from_numpy(flat.y["train"])
    y_val, y_te = flat.y["val"], flat.y["test"]
    x_val, x_te = flat_inputs(flat, "val"), flat_inputs(flat, "test")
    members = ([[int(c)] for c in flat.y["train"]] if single
               else [np.flatnonzero(r).tolist() for r in flat.y["train"]])
    weights = sample_weights(flat.counts, members)
    tuned = TUNED_PLANS if tuned_plans is None else tuned_plans
    plans = make_plans(flat.table, n, configs, tuned)
    w_boot = resample_weights(flat.n("test"), budget.n_boot)
    ones_val = np.ones((1, flat.n("val")))
    log(f"{name}: {flat.info}")

    def batch(idx: np.ndarray) -> tuple[Any, torch.Tensor]:
        return flat_inputs(flat, "train", idx), y_tr[torch.from_numpy(idx)]

    def val_score(logits: np.ndarray) -> float:
        if single:
            return float(single_metrics(y_val, logits.argmax(1), k, ones_val, [0])
                         ["macro_f1"][0])
        aps = [weighted_ap(y_val[:, j], logits[:, j], ones_val)[0] for j in range(k)]
        return float(np.nanmean(aps))

    scored: dict[str, dict[str, Scored]] = {}
    tuned_plan: dict[str, str] = {}
    paradox: dict[str, Any] = {}
    per_class: dict[str, dict[str, list[float]]] = {}
    for model_name in models:
        hidden = HIDDEN if model_name == "mlp" else None
        lr = budget.lr[model_name]

        def make_model(hidden: int | None = hidden) -> nn.Module:
            return FlatNet(flat.n_in, k, hidden, flat.sparse)

        def fit(config: str, seed: int, plan: Any = None, tau: float = 1.0,
                lr: float = lr, make_model: Callable[[], nn.Module] = make_model
                ) -> dict[str, Any]:
            sampler = make_sampler(config, n, seed, plan, weights)
            res = train(make_model, _flat_loss(flat, config, tau), sampler, n, batch,
                        lambda m: val_score(_logits(m, x_val)), budget, lr, seed)
            lv, lt = _logits(res.model, x_val), _logits(res.model, x_te)
            return {"val_logits": lv, "test_logits": lt, "val": max(res.curve),
                    "best_epoch": res.best_epoch, "epochs_run": res.epochs_run,
                    "never_drawn": res.never_drawn[:3], "seconds": res.seconds,
                    "curve": res.curve}

        runs: dict[str, list[dict[str, Any]]] = {}
        for config in configs:
            if config == POSTHOC:
                continue
            runs[config] = []
            for seed in seeds:
                if config == "logit_adjusted":
                    tries = [dict(fit(config, seed, tau=t), tau=t) for t in LA_TAUS]
                    if "balanced_softmax" in runs and len(runs["balanced_softmax"]) > len(
                            runs[config]):
                        tries.append(dict(runs["balanced_softmax"][len(runs[config])], tau=1.0))
                    run = max(tries, key=lambda r: r["val"])
                elif config == "sampler_tuned":
                    if model_name not in tuned_plan:  # choose on the first seed's validation
                        tries = {lab: fit(config, seed, plans[lab]) for lab in tuned}
                        tuned_plan[model_name] = max(tries, key=lambda lab: tries[lab]["val"])
                        run = tries[tuned_plan[model_name]]
                    else:
                        run = fit(config, seed, plans[tuned_plan[model_name]])
                    run["plan"] = tuned_plan[model_name]
                else:
                    plan = plans.get("default" if config == "sampler_default" else config)
                    run = fit(config, seed, plan)
                runs[config].append(run)
                log(f"{name} {model_name:<6} {config:<22} seed {seed}: val {run['val']:.3f}, "
                    f"best epoch {run['best_epoch']}/{run['epochs_run']} "
                    f"({run['seconds']:.1f}s)")
        if POSTHOC in configs and "none" in runs:
            runs[POSTHOC] = []
            for base in runs["none"]:
                search = curate.tune_tau(base["val_logits"], y_val, flat.priors,
                                         metric="macro_f1")
                adj = np.asarray(curate.logit_adjust(base["test_logits"], flat.priors,
                                                     search.tau))
                runs[POSTHOC].append(base | {"test_logits": adj, "tau": float(search.tau),
                                             "val": float(search.score)})
        # ---- score on the test set
        scored[model_name] = {}
        for config in configs:
            if config not in runs:
                continue
            preds: list[Any] = []
            extra = []
            for run in runs[config]:
                lt = run["test_logits"]
                if single:
                    preds.append(lt.argmax(1))
                else:
                    prob_val, prob = 1 / (1 + np.exp(-run["val_logits"])), 1 / (1 + np.exp(-lt))
                    thr = curate.tune_thresholds(y_val, prob_val)
                    preds.append((prob, (prob >= 0.5).astype(np.float64),
                                  (prob >= thr).astype(np.float64)))
                extra.append({key: run[key] for key in ("val", "best_epoch", "epochs_run",
                                                        "seconds", "never_drawn", "tau",
                                                        "plan") if key in run})
            if single:
                def metric(p: Any, w: np.ndarray) -> dict[str, np.ndarray]:
                    return single_metrics(y_te, p, k, w, flat.rare)
            else:
                def metric(p: Any, w: np.ndarray) -> dict[str, np.ndarray]:
                    return multi_metrics(y_te, p[0], p[1], p[2], w, flat.rare)
                # per-class AP and mAP of the first seed with curate's own metrics
                ap = curate.average_precision(y_te, preds[0][0])
                per_class.setdefault(model_name, {})[config] = [float(v) for v in ap]
                extra[0]["map_curate"] = float(mean_average_precision(y_te, preds[0][0]))
            point, boot = score_runs(metric, preds, w_boot, flat.n("test"))
            scored[model_name][config] = Scored(point, boot, extra)
        if "none" in runs:
            paradox[model_name] = _flat_paradox(flat, runs["none"][0]["test_logits"])
    return Outcome(name, flat.kind, flat.info, flat.classes, [flat.classes[i] for i in flat.rare],
                   [int(c) for c in flat.counts], scored, plans, tuned_plan, paradox, per_class,
                   time.perf_counter() - t_start)


def _verdict(ev: Any) -> dict[str, Any]:
    return {"flagged": bool(ev.paradox.flagged), "reasons": list(ev.paradox.reasons)}


def _flat_paradox(flat: Flat, test_logits: np.ndarray) -> dict[str, Any]:
    """curate.evaluate's accuracy-paradox verdict of the plain run (0.5 for multi-label)."""
    import curate

    rare = [flat.classes[i] for i in flat.rare]
    if flat.kind == "single":
        names = np.asarray(flat.classes)
        ev = curate.evaluate(names[flat.y["test"]], names[test_logits.argmax(1)],
                             task="multiclass", labels=flat.classes, rare=rare, zero_division=0)
    else:
        def lists(m: np.ndarray) -> list[list[str]]:
            return [[flat.classes[j] for j in np.flatnonzero(row)] for row in m]

        ev = curate.evaluate(lists(flat.y["test"]), lists(test_logits >= 0), task="multilabel",
                             labels=flat.classes, rare=rare, zero_division=0)
    return _verdict(ev)


@dataclass
class Tagged:
    """WNUT-17 encoded for the BiLSTM: train / val (carved from train) / test."""

    enc: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]
    tags: dict[str, list[list[str]]]
    ids: dict[str, list[np.ndarray]]
    tag_names: list[str]
    types: list[str]
    entity_table: Any
    tag_counts: np.ndarray
    type_counts: np.ndarray
    n_words: int
    n_chars: int
    info: dict[str, Any]


def load_wnut17(budget: Budget) -> Tagged:
    """Vocabulary from the training part; 15 % of ``train`` sentences carved for validation."""
    import curate

    df = pd.read_parquet(DATASETS / "wnut17_ner" / "labels.parquet")
    tr_df = df[df["split"] == "train"]
    te_df = df[df["split"] == "test"]
    if budget.subset:
        tr_df = tr_df.iloc[_subset(np.arange(len(tr_df)), budget.subset)]
        te_df = te_df.iloc[_subset(np.arange(len(te_df)), budget.subset)]
    keep, val = _carve(len(tr_df), None, VAL_FRACTION)
    frames = {"train": tr_df.iloc[keep], "val": tr_df.iloc[val], "test": te_df}
    tok = {s: [list(v) for v in f["tokens"]] for s, f in frames.items()}
    tags = {s: [list(v) for v in f["tags_iob2"]] for s, f in frames.items()}
    tag_table = curate.LabelTable.from_tags(tags["train"], level="token", background="O")
    entity_table = curate.LabelTable.from_tags(tags["train"], level="entity")
    tag_names = list(tag_table.classes)
    tid = {t: j for j, t in enumerate(tag_names)}
    words = {w: i + 2 for i, w in enumerate(sorted({t.lower() for s in tok["train"] for t in s}))}
    chars = {c: i + 2 for i, c in enumerate(sorted({c for s in tok["train"] for t in s
                                                    for c in t}))}
    enc = {s: _encode(v, words, chars) for s, v in tok.items()}
    ids = {s: [np.array([tid[t] for t in sent], np.int64) for sent in v] for s, v in tags.items()}
    tag_counts = np.bincount(np.concatenate(ids["train"]), minlength=len(tag_names))
    types = [str(c) for c in entity_table.classes]
    type_counts = np.array([int(entity_table.counts[c]) for c in entity_table.classes])
    return Tagged(enc, tags, ids, tag_names, types, entity_table, tag_counts, type_counts,
                  len(words) + 2, len(chars) + 2,
                  info={"train": len(enc["train"]), "val": len(enc["val"]),
                        "test": len(enc["test"]), "words": len(words), "tags": len(tag_names),
                        "max/min entity count": round(float(type_counts.max()
                                                            / type_counts.min()), 1)})


def _tagger_predict(model: nn.Module, data: Tagged, split: str
                    ) -> tuple[list[np.ndarray], list[list[str]]]:
    """Per-sentence token logits and argmax BIO tags of one split."""
    logits: list[np.ndarray] = []
    enc = data.enc[split]
    with torch.no_grad():
        for s in range(0, len(enc), 256):
            inputs, _ = _pad(enc[s : s + 256], None, torch.device("cpu"))
            out = model(inputs).double().numpy()
            logits.extend(out[i, : len(enc[s + i][0])] for i in range(len(out)))
    tags = [[data.tag_names[j] for j in lg.argmax(1)] for lg in logits]
    return logits, tags


def run_ner(budget: Budget, seeds: Sequence[int], configs: Sequence[str],
            log: Callable[[str], None]) -> Outcome:
    """The BiLSTM tagger under each configuration; early stop on validation entity macro-F1."""
    import curate
    import curate.losses as L

    t_start = time.perf_counter()
    data = load_wnut17(budget)
    n = len(data.enc["train"])
    rare = _rarest_third(data.type_counts)
    plans = make_plans(data.entity_table, n, configs)
    w_boot = resample_weights(len(data.enc["test"]), budget.n_boot)
    ones_val = np.ones((1, len(data.enc["val"])))
    priors = data.tag_counts / data.tag_counts.sum()
    rng = [np.random.default_rng(0)]  # word dropout; reseeded by every run
    log(f"wnut17_ner: {data.info}")

    def batch(idx: np.ndarray) -> tuple[Any, torch.Tensor]:
        inputs, target = _pad([data.enc["train"][i] for i in idx],
                              [data.ids["train"][i] for i in idx], torch.device("cpu"),
                              word_dropout=0.05, rng=rng[0])
        assert target is not None
        return inputs, target

    def validate(model: nn.Module) -> float:
        _, pred = _tagger_predict(model, data, "val")
        counts = entity_counts(data.tags["val"], pred, data.types)
        return float(entity_metrics(counts, ones_val, rare)["macro_f1"][0])

    def loss_of(config: str) -> nn.Module:
        if config == "inverse_sqrt":
            # O gets its own scaled inverse-sqrt weight, so O vs entities moves too
            cw = curate.class_weights(data.tag_counts, scheme="inverse_sqrt",
                                      classes=data.tag_names, background="O",
                                      background_weight="scaled")
            return L.WeightedCrossEntropy(cw)
        return nn.CrossEntropyLoss(ignore_index=-100)

    runs: dict[str, list[dict[str, Any]]] = {}
    for config in configs:
        if config == POSTHOC:
            continue
        runs[config] = []
        for seed in seeds:
            rng[0] = np.random.default_rng([seed, 17])
            sampler = make_sampler(config, n, seed, plans.get("default"), None)
            res = train(lambda: CharWordBiLSTM(data.n_words, data.n_chars, len(data.tag_names)),
                        loss_of(config), sampler, n, batch, validate, budget,
                        budget.lr["bilstm"], seed, reshape=True)
            val_logits, _ = _tagger_predict(res.model, data, "val")
            test_logits, test_tags = _tagger_predict(res.model, data, "test")
            runs[config].append({"val_logits": val_logits, "test_logits": test_logits,
                                 "test_tags": test_tags, "val": max(res.curve),
                                 "best_epoch": res.best_epoch, "epochs_run": res.epochs_run,
                                 "never_drawn": res.never_drawn[:3], "seconds": res.seconds,
                                 "curve": res.curve})
            log(f"wnut17_ner {config:<22} seed {seed}: val {max(res.curve):.3f}, best epoch "
                f"{res.best_epoch}/{res.epochs_run} ({res.seconds:.1f}s)")
    if POSTHOC in configs and "none" in runs:
        runs[POSTHOC] = []
        y_val = np.concatenate(data.ids["val"])
        for base in runs["none"]:
            search = curate.tune_tau(np.concatenate(base["val_logits"]), y_val, priors,
                                     metric="macro_f1")
            tags = [[data.tag_names[j] for j in
                     np.asarray(curate.logit_adjust(lg, priors, search.tau)).argmax(1)]
                    for lg in base["test_logits"]]
            runs[POSTHOC].append(base | {"test_tags": tags, "tau": float(search.tau),
                                         "val": float(search.score)})
    scored: dict[str, Scored] = {}
    for config, rs in runs.items():
        preds = [entity_counts(data.tags["test"], r["test_tags"], data.types) for r in rs]
        point, boot = score_runs(lambda c, w: entity_metrics(c, w, rare), preds, w_boot,
                                 len(data.enc["test"]))
        extra = [{key: r[key] for key in ("val", "best_epoch", "epochs_run", "seconds",
                                          "never_drawn", "tau", "curve") if key in r}
                 for r in rs]
        scored[config] = Scored(point, boot, extra)
    paradox = {}
    if "none" in runs:
        ev = curate.evaluate(data.tags["test"], runs["none"][0]["test_tags"], task="tags",
                             rare=[data.types[i] for i in rare], zero_division=0)
        paradox["bilstm"] = _verdict(ev)
    ordered = {c: scored[c] for c in configs if c in scored}
    return Outcome("wnut17_ner", "ner", data.info, data.types, [data.types[i] for i in rare],
                   [int(c) for c in data.type_counts], {"bilstm": ordered}, plans, {}, paradox,
                   {}, time.perf_counter() - t_start)


# ----------------------------------------------------------------------------- tables
PRIMARY = {"single": "macro_f1", "multi": "map", "ner": "macro_f1"}
PRIMARY_NAME = {"single": "macro-F1", "multi": "mAP", "ner": "entity macro-F1"}


def _epochs(extra: list[dict[str, Any]]) -> str:
    return (f"{np.mean([e['best_epoch'] for e in extra]):.1f} / "
            f"{np.mean([e['epochs_run'] for e in extra]):.1f}")


def _never(config: str, extra: list[dict[str, Any]]) -> str:
    if config not in SAMPLERS:
        return "—"
    first = [e["never_drawn"] for e in extra if e["never_drawn"]]
    one = np.mean([d[0] for d in first])
    two = np.mean([d[1] for d in first if len(d) > 1]) if any(len(d) > 1 for d in first) else 0
    return f"{one:.3f} / {two:.3f}"


def _tuned(extra: list[dict[str, Any]]) -> str:
    if "tau" in extra[0]:
        return "tau " + ", ".join(f"{e['tau']:g}" for e in extra)
    if "plan" in extra[0]:
        return f"plan: {extra[0]['plan']}"
    return ""


def dataset_table(o: Outcome) -> dict[str, Any]:
    """Test scores of every model and configuration on one dataset."""
    rows = []
    for model, by_config in o.scored.items():
        base = by_config.get("none")
        for config, s in by_config.items():
            def col(key: str, s: Scored = s) -> str:
                return mean_std([p[key] for p in s.point])

            def d(key: str, s: Scored = s, base: Scored | None = base,
                  config: str = config) -> str:
                return "—" if base is None or config == "none" else fmt_delta(
                    delta(base, s, key))

            if o.kind == "single":
                cells = [col("macro_f1"), d("macro_f1"), col("balanced_accuracy"),
                         col("rare_recall"), col("worst_recall")]
            elif o.kind == "multi":
                cells = [col("map"), d("map"), col("macro_f1_05"), col("macro_f1_tuned"),
                         d("macro_f1_tuned"), col("rare_recall"), col("worst_ap")]
            else:
                cells = [col("macro_f1"), d("macro_f1"), col("micro_f1"), col("rare_recall"),
                         col("worst_recall")]
            rows.append(([model] if o.kind != "ner" else []) + [config, *cells,
                        _epochs(s.extra), _never(config, s.extra), _tuned(s.extra)])
    heads = {
        "single": ["macro-F1", "Δ macro-F1 vs none [95 % CI]", "balanced accuracy",
                   "rare-third recall", "worst-class recall"],
        "multi": ["mAP", "Δ mAP vs none [95 % CI]", "macro-F1 @0.5", "macro-F1 tuned thr.",
                  "Δ macro-F1 tuned vs none [95 % CI]", "rare-third recall (tuned thr.)",
                  "worst-class AP"],
        "ner": ["entity macro-F1", "Δ vs none [95 % CI]", "entity micro-F1",
                "rare-third recall", "worst-type recall"],
    }[o.kind]
    sizes = ", ".join(f"{k} {v}" for k, v in o.info.items())
    n_seeds = len(next(iter(next(iter(o.scored.values())).values())).point)
    notes = (f"{sizes}. Mean ± sample std over {n_seeds} seed(s); Δ is the mean over seeds of "
             "the test difference to `none` of the same model, with a paired bootstrap 95 % "
             "interval over test samples. Rarest third (training count): "
             f"{', '.join(o.rare)}. Epochs: best (early-stopping) / run. Never drawn: fraction "
             "of training samples not drawn after the first 1 / 2 sampler epochs. "
             f"{o.seconds:.0f} s for this dataset.")
    return {"title": f"{o.name}: test scores by model and configuration",
            "columns": (["model"] if o.kind != "ner" else []) + ["config", *heads,
                        "epochs best / run", "never drawn 1 / 2", "tuned on validation"],
            "rows": rows, "notes": notes}


def best_by_validation(by_config: dict[str, Scored]) -> str | None:
    """The non-`none` configuration with the highest mean validation score."""
    val = {c: float(np.mean([e["val"] for e in s.extra])) for c, s in by_config.items()
           if c != "none"}
    return max(val, key=lambda c: val[c]) if val else None


def targets_table(outcomes: list[Outcome]) -> dict[str, Any]:
    rows = []
    for o in outcomes:
        key = PRIMARY[o.kind]
        for model, by_config in o.scored.items():
            base = by_config.get("none")
            if base is None:
                continue
            if o.kind == "multi":
                target, config = "sampler_default not worse on mAP", "sampler_default"
            else:
                target, config = (f"best curate config beats none on {PRIMARY_NAME[o.kind]}",
                                  best_by_validation(by_config))
            if config is None or config not in by_config:
                continue
            d = delta(base, by_config[config], key)
            met = d[2] >= 0 if o.kind == "multi" else d[1] > 0
            on_test = max((c for c in by_config if c != "none"),
                          key=lambda c: np.mean([p[key] for p in by_config[c].point]))
            rows.append([o.name, model, target, config, round(d[0], 3),
                         f"[{d[1]:+.3f}, {d[2]:+.3f}]", "met" if met else "NOT met",
                         f"{on_test} ({delta(base, by_config[on_test], key)[0]:+.3f})"])
    return {"title": "Targets (issue 13), as measured",
            "columns": ["dataset", "model", "target", "configuration (picked on validation)",
                        "Δ vs none", "95 % CI", "verdict", "best on test, for reference"],
            "rows": rows,
            "notes": "Single-label and tags: the configuration with the best mean validation "
                     "score is compared with `none`; met when the whole interval is above 0. "
                     "Multi-label: met when the interval's upper end is ≥ 0 (not worse beyond "
                     "the interval). The last column picks on the test set and is optimistic."}


def plan_table(outcomes: list[Outcome]) -> dict[str, Any]:
    rows = []
    for o in outcomes:
        for label, plan in o.plans.items():
            nd = never_drawn(plan, 4)
            rows.append([o.name, label, plan.n_samples, plan.epoch_size, plan.n_duplicates,
                         plan.n_removed, " / ".join(f"{v:.3f}" for v in nd)])
    return {"title": "What the samplers draw: never-drawn fraction of each plan over epochs",
            "columns": ["dataset", "plan", "samples", "epoch size", "duplicated draws",
                        "sitting out (epoch 0)", "never drawn after 1 / 2 / 3 / 4 epochs"],
            "rows": rows,
            "notes": "From `plan.draw(e)` on the training part (what `BalancedSampler` "
                     "iterates). default = `InterClassBalancer()` (coverage_epochs=2); "
                     f"tuned candidates: {TUNED_PLANS}; repeat_factor = "
                     f"`repeat_factor(table, {REPEAT_THRESHOLD})`. Balanced table: classes "
                     "(text), label instances (mulan), entity spans per sentence (wnut17)."}


def paradox_table(outcomes: list[Outcome]) -> dict[str, Any]:
    rows = [[o.name, model, "flagged" if v["flagged"] else "not flagged",
             " ".join(v["reasons"]) or "—"]
            for o in outcomes for model, v in o.paradox.items()]
    return {"title": "Accuracy-paradox verdict of the plain run (curate.evaluate, first seed)",
            "columns": ["dataset", "model", "verdict", "reasons"], "rows": rows,
            "notes": "Default thresholds; rare classes = the rarest third above; multi-label "
                     "at threshold 0.5."}


def per_class_table(o: Outcome) -> dict[str, Any] | None:
    if not o.per_class:
        return None
    shown = [c for c in ("none", "distribution_balanced", "sampler_default")
             if all(c in pc for pc in o.per_class.values())]
    cols = [f"{m}: {c}" for m in o.per_class for c in shown]
    rows = [[cls, o.counts[j], *(round(o.per_class[m][c][j], 3) for m in o.per_class
                                  for c in shown)] for j, cls in enumerate(o.classes)]
    return {"title": f"{o.name}: per-class test AP (first seed, curate.average_precision)",
            "columns": ["label", "train count", *cols], "rows": rows,
            "notes": "Thresholds do not enter AP; labels in the source's order."}


def curve_table(o: Outcome) -> dict[str, Any] | None:
    base = o.scored.get("bilstm", {}).get("none")
    if base is None:
        return None
    curves = [e["curve"] for e in base.extra]
    longest = max(len(c) for c in curves)
    rows = []
    for ep in range(longest):
        vals = [c[ep] if ep < len(c) else None for c in curves]
        known = [v for v in vals if v is not None]
        rows.append([ep + 1, *(None if v is None else round(v, 3) for v in vals),
                     round(float(np.mean(known)), 3)])
    return {"title": "wnut17_ner: validation entity macro-F1 of the plain BiLSTM per epoch",
            "columns": ["epoch", *(f"seed {i}" for i in range(len(curves))), "mean (seeds run)"],
            "rows": rows,
            "notes": "Early stopping keeps the best epoch (patience as in the budget); a "
                     "missing value means that seed had stopped. Convergence of the baseline "
                     "is what makes the comparison fair: an under-trained `none` inflates "
                     "every gain."}


def findings(outcomes: list[Outcome]) -> list[str]:
    """One sentence per dataset and model: which configurations move the primary metric
    beyond the bootstrap interval."""
    lines = []
    for o in outcomes:
        key = PRIMARY[o.kind]
        for model, by_config in o.scored.items():
            base = by_config.get("none")
            if base is None:
                continue
            better, worse, flat_ = [], [], []
            for config, s in by_config.items():
                if config == "none":
                    continue
                d = delta(base, s, key)
                text = f"{config} {d[0]:+.3f}"
                (better if d[1] > 0 else worse if d[2] < 0 else flat_).append(text)
            lines.append(f"{o.name} / {model} ({PRIMARY_NAME[o.kind]} vs none): better: "
                         f"{', '.join(better) or '—'}; worse: {', '.join(worse) or '—'}; "
                         f"within the interval: {', '.join(flat_) or '—'}.")
    return lines


def _runs_json(o: Outcome) -> dict[str, Any]:
    return {model: {config: [p | e for p, e in zip(s.point, s.extra, strict=True)]
                    for config, s in by_config.items()}
            for model, by_config in o.scored.items()}


DESCRIPTION = (
    "Configurations: none = plain cross-entropy / BCE, uniform shuffling; none+posthoc_la = the "
    "same model, logits adjusted by curate.logit_adjust with tau from curate.tune_tau "
    "(validation macro-F1); balanced / effective / inverse_sqrt = curate.class_weights(scheme=…) "
    "in WeightedCrossEntropy (single-label) or as BCE pos_weight (multi-label); focal = "
    f"FocalLoss / SigmoidFocalLoss(gamma={FOCAL_GAMMA:g}); balanced_softmax = "
    "BalancedSoftmaxLoss(train counts); logit_adjusted = LogitAdjustedLoss with tau picked on "
    f"validation among {LA_TAUS} and 1 (= balanced_softmax); distribution_balanced = "
    "DistributionBalancedLoss (defaults); sampler_default = BalancedSampler over "
    "InterClassBalancer() (coverage_epochs=2); sampler_tuned = BalancedSampler over the "
    f"InterClassBalancer options among {list(TUNED_PLANS)} with the best validation score "
    "(first seed); weighted_sampler = WeightedSampler, weight mean 1/n_c over a sample's "
    "classes, fresh draws every epoch; repeat_factor = BalancedSampler over "
    f"repeat_factor(table, {REPEAT_THRESHOLD}). Multi-label: thresholds per class from "
    "curate.tune_thresholds on validation. wnut17_ner: inverse_sqrt gives O its own scaled "
    "weight; the trained logit-adjustment losses are left out there to keep the run within "
    "15 minutes (the post-hoc adjustment stands for them)."
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run (< 60 s): 1 seed, 2 epochs, 250 samples per split")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; 1 quick)")
    p.add_argument("--datasets", nargs="+", choices=DATASET_NAMES, default=list(DATASET_NAMES))
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--configs", nargs="+", choices=CONFIGS, default=None,
                   help="restrict the configurations (default: all that apply)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: two spin-wait badly on a busy 2-core "
                        "machine)")
    p.add_argument("--plan-costs", nargs="+", type=float, default=None, metavar="COST",
                   help="instead of the experiment: BalancedSampler with InterClassBalancer("
                        "duplicate_cost=COST, removal_cost=COST) vs none for each COST, on the "
                        "single- and multi-label sets (results/train_effect_plan_costs.json)")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default benchmarks/results/train_effect.json)")
    return p.parse_args(argv)


def plan_costs_sweep(datasets: Sequence[str], costs: Sequence[float], budgets: dict[str, Budget],
                     seeds: Sequence[int], models: Sequence[str],
                     log: Callable[[str], None]) -> dict[str, Any]:
    """Δ of the headline metric vs ``none`` as the plan's duplicate/removal costs grow.

    One BalancedSampler plan per cost (both costs set to it; the default is 0.5); the same
    training protocol, seeds and paired bootstrap as the experiment.
    """
    import curate

    rows = []
    for name in datasets:
        if name in NER:
            continue
        key = "map" if name in MULTI else "macro_f1"
        none: dict[str, Scored] = {}  # trained once per dataset, compared with every cost
        for cost in costs:
            label = f"costs {cost:g}"
            configs = ("sampler_tuned",) if none else ("none", "sampler_tuned")
            o = run_flat(name, budgets[name], seeds, configs, models, log,
                         tuned_plans={label: {"duplicate_cost": cost, "removal_cost": cost}})
            none = none or {model: o.scored[model]["none"] for model in models}
            plan = o.plans[label]
            drawn = never_drawn(plan, 1)[0]
            for model in models:
                d = delta(none[model], o.scored[model]["sampler_tuned"], key)
                rows.append([name, model, f"{cost:g}", int(plan.n_duplicates),
                             int(plan.n_removed), round(drawn, 3),
                             "mAP" if key == "map" else "macro-F1", fmt_delta(d), _side(d)])
    default = curate.InterClassBalancer().duplicate_cost
    return {"title": "BalancedSampler plan costs vs none (duplicate_cost = removal_cost = cost)",
            "columns": ["dataset", "model", "cost", "copies added", "sit-outs",
                        "sat out in epoch 1", "metric", "Δ vs none [95 % CI]", "verdict"],
            "rows": rows,
            "notes": (f"The default cost is {default:g}. Each cost: one plan (seed 0), the "
                      f"experiment's protocol, {len(seeds)} seed(s); Δ is the mean over seeds of "
                      "the test difference to `none` with a paired bootstrap 95 % interval over "
                      "test samples. A plan with no copies and no sit-outs is the identity: its "
                      "Δ is training-order noise (another shuffle of the same data).")}


def _side(d: tuple[float, float, float]) -> str:
    return "better" if d[1] > 0 else "worse" if d[2] < 0 else "within the interval"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    budgets = QUICK if args.quick else FULL
    seeds = list(range(args.seeds if args.seeds else (1 if args.quick else 3)))
    out = args.out or RESULTS / "train_effect.json"
    load = os.getloadavg()
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", flush=True)

    if args.plan_costs:
        table = plan_costs_sweep(args.datasets, args.plan_costs, budgets, seeds, args.models,
                                 log)
        print_table(table["title"], table["columns"], table["rows"])
        command = " ".join(["python benchmarks/train_effect.py",
                            *(sys.argv[1:] if argv is None else argv)])
        path = write_results("train_effect_plan_costs", [table], command=command,
                             out=args.out or RESULTS / "train_effect_plan_costs.json",
                             extra={"wall_seconds": round(time.perf_counter() - start, 1)})
        print(f"\nwrote {path}")
        return 0
    outcomes = []
    for name in args.datasets:
        wanted = [c for c in configs_of(name) if args.configs is None or c in args.configs]
        if args.configs is not None and POSTHOC in wanted and "none" not in wanted:
            wanted.insert(0, "none")
        if name in NER:
            outcomes.append(run_ner(budgets[name], seeds, wanted, log))
        else:
            outcomes.append(run_flat(name, budgets[name], seeds, wanted, args.models, log))
    total = time.perf_counter() - start
    tables: list[dict[str, Any]] = [targets_table(outcomes)]
    for o in outcomes:
        tables.append(dataset_table(o))
        extra_tables = [per_class_table(o), curve_table(o)]
        tables.extend(t for t in extra_tables if t is not None)
    tables.append(paradox_table(outcomes))
    tables.append(plan_table(outcomes))
    for t in tables:
        print_table(t["title"], t["columns"], t["rows"])
    end_load = os.getloadavg()
    budget_note = (f"Whole experiment: {total:.0f} s wall on the CPU, {args.threads} torch "
                   f"thread(s); load average {load[0]:.1f} at the start and {end_load[0]:.1f} "
                   "at the end (a shared machine: other processes were running).")
    description = [DESCRIPTION, budget_note,
                   "Where curate's tools do not help, as measured: every configuration listed "
                   "as 'worse' or 'within the interval' below (paired bootstrap 95 % interval "
                   "of the difference to `none` on the headline metric):",
                   *findings(outcomes)]
    extra = {
        "description": description, "wall_seconds": round(total, 1),
        "load_average": {"start": round(load[0], 2), "end": round(end_load[0], 2)},
        "peak_rss_mb": round(peak_rss_mb(), 1), "threads": args.threads, "seeds": seeds,
        "quick": args.quick,
        "budgets": {o.name: budgets[o.name].__dict__ for o in outcomes},
        "datasets": {o.name: {"kind": o.kind, "info": o.info, "classes": o.classes,
                              "train_counts": o.counts, "rare": o.rare,
                              "tuned_plan": o.tuned_plan, "paradox": o.paradox,
                              "per_class_ap": o.per_class, "seconds": round(o.seconds, 1)}
                     for o in outcomes},
        "runs": {o.name: _runs_json(o) for o in outcomes},
    }
    command = " ".join(["python benchmarks/train_effect.py",
                        *(sys.argv[1:] if argv is None else argv)])
    path = write_results("train_effect", tables, command=command, out=out, extra=extra)
    print(f"\nwall time {total:.1f}s; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
