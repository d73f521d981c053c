"""Does balancing change what a model learns? One fixed-budget training experiment.

Two real public label sets, five training configurations, three seeds each:

* ``mulan_yeast`` (multi-label, 103 numeric features, 14 labels, official 1,500 / 917
  train/test split): a small MLP with one sigmoid output per label, threshold 0.5.
* ``wnut17_ner`` (BIO token tags, 6 entity types): word embeddings + a character CNN feeding
  a one-layer BiLSTM token classifier; no pretrained weights, vocabulary from train; trained on
  ``train``, evaluated on ``test``.

Configurations (identical model, optimiser, epochs and number of optimiser steps):

``none``             plain loss (BCE / cross-entropy), uniform shuffling;
``weighted``         class weights ``curate.class_weights(scheme="inverse_sqrt")``;
``focal``            focal loss, gamma = 2;
``sampler``          ``curate.BalancedSampler`` over an ``InterClassBalancer`` plan;
``sampler+weights``  both.

Every test prediction is scored with ``curate.evaluate``; the unbalanced and the best balanced
run are compared with ``curate.compare`` and rendered with
``curate.report.evaluation_report(...).to_html``. Results go to
``benchmarks/results/train_effect.json`` (rendered into ``docs/benchmarks.md``) and the HTML
reports to ``docs/train_effect_<dataset>.html``.

Usage::

    python benchmarks/train_effect.py               # full run (3 seeds)
    python benchmarks/train_effect.py --quick       # smoke run: 1 seed, 1 epoch, subsets
    python benchmarks/train_effect.py --device cuda
"""

from __future__ import annotations

import argparse
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
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, peak_rss_mb, print_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CURATE_DATASETS", ROOT.parent / "shared" / "datasets"))
DOCS = ROOT / "docs"
CONFIGS = ("none", "weighted", "focal", "sampler", "sampler+weights")
DATASET_NAMES = ("mulan_yeast", "wnut17_ner")
FOCAL_GAMMA = 2.0
YEAST_THRESHOLD = 0.5


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Budget:
    """Training budget of one dataset (the same for every configuration)."""

    epochs: int
    batch_size: int
    lr: float
    train_subset: int | None = None  # --quick: first n training samples
    test_subset: int | None = None


FULL = {
    "mulan_yeast": Budget(epochs=60, batch_size=32, lr=1e-3),
    "wnut17_ner": Budget(epochs=8, batch_size=16, lr=2e-3),
}
QUICK = {
    "mulan_yeast": Budget(epochs=1, batch_size=32, lr=1e-3, train_subset=300, test_subset=200),
    "wnut17_ner": Budget(epochs=1, batch_size=16, lr=2e-3, train_subset=300, test_subset=200),
}


# ----------------------------------------------------------------------------- data
@dataclass
class Task:
    """One dataset, ready for training: tensors, the curate tables, class names."""

    name: str
    kind: str  # "multilabel" | "ner"
    n_train: int
    train_table: Any  # curate.LabelTable the balancer and the weights read
    weight_table: Any  # table the class weights are computed from (tag level for NER)
    classes: list[str]  # output units (labels for yeast, BIO tags for NER)
    rare: list[str]  # rarest third of the evaluated classes (by training count)
    y_true: Any  # test ground truth in the form curate.evaluate takes
    batch: Callable[[np.ndarray, torch.device], tuple[Any, torch.Tensor]]
    test_inputs: Callable[[torch.device], Iterator[tuple[Any, np.ndarray]]]
    make_model: Callable[[], nn.Module]
    info: dict[str, Any] = field(default_factory=dict)


def _rarest_third(counts: pd.Series) -> list[str]:
    """The ceil(K/3) classes with the fewest training instances (ties broken by name)."""
    k = math.ceil(len(counts) / 3)
    order = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return [str(name) for name, _ in order[:k]]


def load_yeast(budget: Budget) -> Task:
    """MULAN yeast: standardised features (train statistics), multi-hot targets."""
    import curate

    root = DATASETS / "mulan_yeast"
    feats = pd.read_parquet(root / "features.parquet")
    labels = pd.read_parquet(root / "labels.parquet")
    if not (feats["sample_id"].to_numpy() == labels["sample_id"].to_numpy()).all():
        raise RuntimeError("features.parquet and labels.parquet rows are not aligned")
    train = (labels["split"] == "train").to_numpy()
    x_all = feats.drop(columns="sample_id").to_numpy(np.float32)
    lab_all = [list(v) for v in labels["labels"]]
    tr, te = np.flatnonzero(train), np.flatnonzero(~train)
    if budget.train_subset:
        tr = tr[: budget.train_subset]
    if budget.test_subset:
        te = te[: budget.test_subset]
    classes = [f"Class{i}" for i in range(1, 15)]
    table = curate.LabelTable.from_labels([lab_all[i] for i in tr], classes=classes)
    mean, std = x_all[tr].mean(0), x_all[tr].std(0) + 1e-6
    x_tr = torch.from_numpy((x_all[tr] - mean) / std)
    x_te = torch.from_numpy((x_all[te] - mean) / std)
    col = {c: j for j, c in enumerate(classes)}
    y_tr = torch.zeros(len(tr), len(classes))
    for r, i in enumerate(tr):
        for c in lab_all[i]:
            y_tr[r, col[c]] = 1.0
    n_feat = x_tr.shape[1]

    def batch(idx: np.ndarray, device: torch.device) -> tuple[Any, torch.Tensor]:
        t = torch.from_numpy(idx)
        return x_tr[t].to(device), y_tr[t].to(device)

    def test_inputs(device: torch.device) -> Iterator[tuple[Any, np.ndarray]]:
        for s in range(0, len(te), 512):
            yield x_te[s : s + 512].to(device), np.arange(s, min(s + 512, len(te)))

    def make_model() -> nn.Module:
        return nn.Sequential(
            nn.Linear(n_feat, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, len(classes))
        )

    return Task(
        name="mulan_yeast", kind="multilabel", n_train=len(tr), train_table=table,
        weight_table=table, classes=classes, rare=_rarest_third(table.counts),
        y_true=[lab_all[i] for i in te], batch=batch, test_inputs=test_inputs,
        make_model=make_model,
        info={"train": len(tr), "test": len(te), "features": n_feat, "labels": len(classes)},
    )


PAD, UNK = 0, 1
MAX_WORD_LEN = 20


class CharWordBiLSTM(nn.Module):
    """Word embedding ⊕ char-CNN word vector → BiLSTM → per-token tag logits."""

    def __init__(self, n_words: int, n_chars: int, n_tags: int, *, word_dim: int = 64,
                 char_dim: int = 24, char_filters: int = 48, hidden: int = 64) -> None:
        super().__init__()
        self.word = nn.Embedding(n_words, word_dim, padding_idx=PAD)
        self.char = nn.Embedding(n_chars, char_dim, padding_idx=PAD)
        self.conv = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
        self.lstm = nn.LSTM(word_dim + char_filters, hidden, batch_first=True,
                            bidirectional=True)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(2 * hidden, n_tags)

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
        words, chars, lengths = inputs  # (B, T), (B, T, L), (B,)
        b, t, ln = chars.shape
        c = self.char(chars.view(b * t, ln)).transpose(1, 2)  # (B*T, C, L)
        c = torch.relu(self.conv(c)).max(dim=2).values.view(b, t, -1)
        h = self.drop(torch.cat([self.word(words), c], dim=-1))
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)
        return self.out(self.drop(out))  # (B, T, n_tags)


def _encode(sentences: Sequence[Sequence[str]], words: dict[str, int],
            chars: dict[str, int]) -> list[tuple[np.ndarray, np.ndarray]]:
    encoded = []
    for sent in sentences:
        w = np.array([words.get(tok.lower(), UNK) for tok in sent], dtype=np.int64)
        c = np.zeros((len(sent), MAX_WORD_LEN), dtype=np.int64)
        for j, tok in enumerate(sent):
            ids = [chars.get(ch, UNK) for ch in tok[:MAX_WORD_LEN]]
            c[j, : len(ids)] = ids
        encoded.append((w, c))
    return encoded


def _pad(items: list[tuple[np.ndarray, np.ndarray]], tags: list[np.ndarray] | None,
         device: torch.device, word_dropout: float = 0.0,
         rng: np.random.Generator | None = None) -> tuple[Any, torch.Tensor | None]:
    lengths = np.array([len(w) for w, _ in items])
    t = int(lengths.max())
    words = np.zeros((len(items), t), dtype=np.int64)
    chars = np.zeros((len(items), t, MAX_WORD_LEN), dtype=np.int64)
    target = np.full((len(items), t), -100, dtype=np.int64)
    for i, (w, c) in enumerate(items):
        words[i, : len(w)] = w
        chars[i, : len(w)] = c
        if tags is not None:
            target[i, : len(w)] = tags[i]
    if word_dropout and rng is not None:  # teach the UNK embedding (test words are unseen)
        words[(rng.random(words.shape) < word_dropout) & (words > UNK)] = UNK
    inputs = (torch.from_numpy(words).to(device), torch.from_numpy(chars).to(device),
              torch.from_numpy(lengths))
    return inputs, (torch.from_numpy(target).to(device) if tags is not None else None)


def load_wnut17(budget: Budget) -> Task:
    """WNUT-17: train on ``train``, evaluate on ``test`` (dev is not used)."""
    import curate

    df = pd.read_parquet(DATASETS / "wnut17_ner" / "labels.parquet")
    tr_df = df[df["split"] == "train"]
    te_df = df[df["split"] == "test"]
    if budget.train_subset:
        tr_df = tr_df.iloc[: budget.train_subset]
    if budget.test_subset:
        te_df = te_df.iloc[: budget.test_subset]
    tr_tok = [list(v) for v in tr_df["tokens"]]
    tr_tag = [list(v) for v in tr_df["tags_iob2"]]
    te_tok = [list(v) for v in te_df["tokens"]]
    te_tag = [list(v) for v in te_df["tags_iob2"]]

    tag_table = curate.LabelTable.from_tags(tr_tag, level="token", background="O")
    entity_table = curate.LabelTable.from_tags(tr_tag, level="entity")
    tags = list(tag_table.classes)
    tag_id = {t: j for j, t in enumerate(tags)}
    words = {w: i + 2 for i, w in enumerate(sorted({t.lower() for s in tr_tok for t in s}))}
    chars = {ch: i + 2 for i, ch in enumerate(sorted({ch for s in tr_tok for t in s for ch in t}))}
    tr_enc, te_enc = _encode(tr_tok, words, chars), _encode(te_tok, words, chars)
    tr_y = [np.array([tag_id[t] for t in s], dtype=np.int64) for s in tr_tag]
    rng = np.random.default_rng(0)

    def batch(idx: np.ndarray, device: torch.device) -> tuple[Any, torch.Tensor]:
        inputs, target = _pad([tr_enc[i] for i in idx], [tr_y[i] for i in idx], device,
                              word_dropout=0.05, rng=rng)
        assert target is not None
        return inputs, target

    def test_inputs(device: torch.device) -> Iterator[tuple[Any, np.ndarray]]:
        for s in range(0, len(te_enc), 128):
            idx = np.arange(s, min(s + 128, len(te_enc)))
            inputs, _ = _pad([te_enc[i] for i in idx], None, device)
            yield inputs, idx

    def make_model() -> nn.Module:
        return CharWordBiLSTM(len(words) + 2, len(chars) + 2, len(tags))

    return Task(
        name="wnut17_ner", kind="ner", n_train=len(tr_enc), train_table=entity_table,
        weight_table=tag_table, classes=tags, rare=_rarest_third(entity_table.counts),
        y_true=te_tag, batch=batch, test_inputs=test_inputs, make_model=make_model,
        info={"train": len(tr_enc), "test": len(te_enc), "words": len(words),
              "chars": len(chars), "tags": len(tags)},
    )


LOADERS = {"mulan_yeast": load_yeast, "wnut17_ner": load_wnut17}


# ----------------------------------------------------------------------------- training
def make_loss(task: Task, config: str, device: torch.device) -> nn.Module:
    """The loss of one configuration (curate's weights and losses where they apply)."""
    import curate
    import curate.losses as L

    weighted = config in ("weighted", "sampler+weights")
    weights = None
    if weighted:
        bg = "O" if task.kind == "ner" else None
        cw = curate.class_weights(task.weight_table, scheme="inverse_sqrt", background=bg)
        weights = cw.to_tensor().to(device=device, dtype=torch.float32)
    if task.kind == "multilabel":
        if config == "focal":
            return L.SigmoidFocalLoss(gamma=FOCAL_GAMMA)
        # weighted: the class weight multiplies the positive term of its label (pos_weight)
        return nn.BCEWithLogitsLoss(pos_weight=weights)
    if config == "focal":
        return L.FocalLoss(gamma=FOCAL_GAMMA, ignore_index=-100)
    if weights is not None:
        return L.WeightedCrossEntropy(weights, ignore_index=-100)
    return nn.CrossEntropyLoss(ignore_index=-100)


class _Uniform(torch.utils.data.Sampler[int]):
    """Plain per-epoch permutation with its own seeded generator (the ``none`` baseline)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def make_plan(task: Task, seed: int) -> Any:
    """The balancer plan the sampler configurations draw from (fixed size = n_train)."""
    import curate

    balancer = curate.InterClassBalancer(seed=seed, time_limit=30.0)
    return balancer.fit(task.train_table)


def make_sampler(task: Task, config: str, seed: int, plan: Any) -> torch.utils.data.Sampler:
    import curate

    if config.startswith("sampler"):
        return curate.BalancedSampler(plan, seed=seed, shuffle=True)
    return _Uniform(task.n_train, seed)


def train_one(task: Task, config: str, seed: int, budget: Budget, device: torch.device,
              plan: Any) -> tuple[nn.Module, int]:
    """Train with a fixed number of optimiser steps; returns the model and steps taken."""
    torch.manual_seed(seed)  # model init and dropout; the samplers own their generators
    model = task.make_model().to(device)
    loss_fn = make_loss(task, config, device).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=budget.lr)
    sampler = make_sampler(task, config, seed, plan)
    total = budget.epochs * math.ceil(task.n_train / budget.batch_size)
    step, epoch = 0, 0
    model.train()
    while step < total:
        sampler.set_epoch(epoch)
        order = np.fromiter(iter(sampler), dtype=np.int64)
        for s in range(0, len(order), budget.batch_size):
            inputs, target = task.batch(order[s : s + budget.batch_size], device)
            logits = model(inputs)
            if task.kind == "ner":
                logits, target = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
            loss = loss_fn(logits, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step >= total:
                break
        epoch += 1
    return model, step


@torch.no_grad()
def predict(task: Task, model: nn.Module, device: torch.device) -> list[list[str]]:
    """Test predictions: label lists (yeast, p >= 0.5) or BIO tag sequences (NER, argmax)."""
    model.eval()
    out: list[list[str]] = []
    for inputs, _ in task.test_inputs(device):
        logits = model(inputs)
        if task.kind == "multilabel":
            hits = (torch.sigmoid(logits) >= YEAST_THRESHOLD).cpu().numpy()
            out.extend([task.classes[j] for j in np.flatnonzero(row)] for row in hits)
        else:
            pred = logits.argmax(-1).cpu().numpy()
            lengths = inputs[2].numpy()
            out.extend([task.classes[j] for j in pred[i, : lengths[i]]] for i in range(len(pred)))
    return out
