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
    python benchmarks/train_effect.py --threads 1    # on a busy machine (see below)

Two torch threads (the default) spin-wait badly when other processes share a 2-core CPU (a run
went from 43 s to 227 s under a load average of 4); ``--threads 1`` degrades gracefully.
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
from _common import RESULTS, peak_rss_mb, print_table, write_results

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
    "wnut17_ner": Budget(epochs=5, batch_size=32, lr=5e-3),
}
QUICK = {
    "mulan_yeast": Budget(epochs=1, batch_size=32, lr=1e-3, train_subset=300, test_subset=200),
    "wnut17_ner": Budget(epochs=1, batch_size=32, lr=5e-3, train_subset=300, test_subset=200),
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
    reseed: Callable[[int], None] = lambda seed: None  # seeds data augmentation per run


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
        b, t, ln = chars.shape
        c = self.char(chars.view(b * t, ln)).transpose(1, 2)  # (B*T, C, L)
        c = torch.relu(self.conv(c)).max(dim=2).values.view(b, t, -1)
        h = self.drop(torch.cat([self.word(words), self.shape(shapes), c], dim=-1))
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)
        return self.out(self.drop(out))  # (B, T, n_tags)


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
    rng = [np.random.default_rng(0)]  # word dropout; reseeded by every training run

    def reseed(seed: int) -> None:
        rng[0] = np.random.default_rng([seed, 17])

    def batch(idx: np.ndarray, device: torch.device) -> tuple[Any, torch.Tensor]:
        inputs, target = _pad([tr_enc[i] for i in idx], [tr_y[i] for i in idx], device,
                              word_dropout=0.05, rng=rng[0])
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
              "chars": len(chars), "tags": len(tags)}, reseed=reseed,
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
        if task.kind == "ner":
            # O gets its own inverse-sqrt weight (scaled like the tags), not the default 1.0:
            # with O at 1 only the balance between entity tags would move, not O vs entities
            cw = curate.class_weights(task.weight_table, scheme="inverse_sqrt", background="O",
                                      background_weight="scaled")
        else:
            cw = curate.class_weights(task.weight_table, scheme="inverse_sqrt")
        weights = cw.to_tensor().to(device=device, dtype=torch.float32)
    if task.kind == "multilabel":
        if config == "focal":
            return L.SigmoidFocalLoss(gamma=FOCAL_GAMMA, alpha=None)  # no 0.25 prior
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
    task.reseed(seed)
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
            lengths = inputs[3].numpy()
            out.extend([task.classes[j] for j in pred[i, : lengths[i]]] for i in range(len(pred)))
    return out


# ----------------------------------------------------------------------------- scoring
def score(task: Task, y_pred: list[list[str]]) -> Any:
    """``curate.evaluate`` of one run (rare classes fixed to the training rarest third)."""
    import curate

    if task.kind == "multilabel":
        return curate.evaluate(task.y_true, y_pred, task="multilabel", labels=task.classes,
                               rare=task.rare, zero_division=0)
    return curate.evaluate(task.y_true, y_pred, task="tags", rare=task.rare, zero_division=0)


def run_metrics(task: Task, ev: Any) -> dict[str, float]:
    """The numbers of one run that the tables report."""
    recall = ev.per_class["recall"]
    out = {
        "accuracy": float(ev.accuracy),
        "micro_f1": float(ev.micro.f1),
        "macro_f1": float(ev.macro.f1),
        "rare_recall": float(np.mean([recall.get(c, 0.0) for c in task.rare])),
    }
    if ev.token is not None:
        out["token_macro_f1"] = float(ev.token.macro.f1)
    for c in task.rare:
        out[f"recall[{c}]"] = float(recall.get(c, 0.0))
    return out


def mean_std(values: Sequence[float]) -> str:
    """``mean ± std`` (sample std, ddof=1; 0 for a single seed), 3 decimals."""
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return f"{arr.mean():.3f} ± {std:.3f}"


# ----------------------------------------------------------------------------- experiment
@dataclass
class Outcome:
    """Everything measured on one dataset."""

    task: Task
    plan: Any
    plan_seconds: float
    runs: dict[str, list[dict[str, float]]]  # config -> one metrics dict per seed
    evals: dict[str, Any]  # config -> Evaluation of the first seed
    paradox: list[bool]  # verdict of every "none" seed
    steps: int


def run_dataset(name: str, budget: Budget, seeds: Sequence[int], configs: Sequence[str],
                device: torch.device, log: Callable[[str], None]) -> Outcome:
    task = LOADERS[name](budget)
    t0 = time.perf_counter()
    plan = make_plan(task, seed=0) if any(c.startswith("sampler") for c in configs) else None
    plan_seconds = time.perf_counter() - t0
    if plan is not None:
        log(f"{name}: plan {plan.status} in {plan_seconds:.1f}s, epoch size {plan.epoch_size}, "
            f"{plan.n_duplicates} duplicates, {plan.n_removed} removed")
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in configs}
    evals: dict[str, Any] = {}
    paradox: list[bool] = []
    steps = 0
    for config in configs:
        for seed in seeds:
            t0 = time.perf_counter()
            model, steps = train_one(task, config, seed, budget, device, plan)
            seconds = time.perf_counter() - t0
            ev = score(task, predict(task, model, device))
            metrics = run_metrics(task, ev) | {"train_seconds": seconds, "seed": seed}
            runs[config].append(metrics)
            evals.setdefault(config, ev)
            if config == "none":
                paradox.append(bool(ev.paradox.flagged))
            log(f"{name} {config:<16} seed {seed}: macro-F1 {metrics['macro_f1']:.3f} "
                f"rare recall {metrics['rare_recall']:.3f} ({seconds:.1f}s)")
    return Outcome(task, plan, plan_seconds, runs, evals, paradox, steps)


def best_balanced(outcome: Outcome) -> str | None:
    """The balanced configuration with the highest mean macro-F1 (None if only 'none' ran)."""
    scores = {c: np.mean([r["macro_f1"] for r in rs]) for c, rs in outcome.runs.items()
              if c != "none" and rs}
    return max(scores, key=lambda c: scores[c]) if scores else None


def _plan_row(outcome: Outcome) -> list[Any]:
    plan = outcome.plan
    before, after = plan.counts_before, plan.counts_after
    ratio = lambda s: float(s.max() / max(s.min(), 1))  # noqa: E731
    return [outcome.task.name, str(plan.status), plan.n_samples, plan.epoch_size,
            plan.n_duplicates, plan.n_removed, round(ratio(before), 2), round(ratio(after), 2),
            round(outcome.plan_seconds, 2)]


def tables_for(outcome: Outcome, budget: Budget, n_seeds: int) -> list[dict[str, Any]]:
    task = outcome.task
    ner = task.kind == "ner"
    keys = ["accuracy", "micro_f1", "macro_f1", *(["token_macro_f1"] if ner else []),
            "rare_recall"]
    heads = (["token accuracy", "entity micro-F1", "entity macro-F1", "token macro-F1",
              "rare-third entity recall"] if ner else
             ["subset accuracy", "micro-F1", "macro-F1", "rare-third recall"])
    rows, rare_rows = [], []
    for config, rs in outcome.runs.items():
        if not rs:
            continue
        rows.append([config, *(mean_std([r[k] for r in rs]) for k in keys),
                     round(float(np.mean([r["train_seconds"] for r in rs])), 1)])
        rare_rows.append([config, *(mean_std([r[f"recall[{c}]"] for r in rs])
                                    for c in task.rare)])
    what = ("MLP 103→128→14 (ReLU, dropout 0.3), sigmoid outputs, threshold "
            f"{YEAST_THRESHOLD}; official train/test split" if not ner else
            "lower-cased word embedding (64) ⊕ word-shape embedding (8) ⊕ char-CNN (24-dim "
            "chars, 48 filters, width 3) → BiLSTM (2×64), dropout 0.25 → softmax over the 13 "
            "BIO tags, argmax decoding, no CRF; trained on train, scored on test")
    sizes = ", ".join(f"{k} {v}" for k, v in task.info.items())
    notes = (
        f"{sizes}. {what}. Adam lr={budget.lr}, batch {budget.batch_size}, "
        f"{budget.epochs} epochs = {outcome.steps} optimiser steps for every configuration "
        f"(sampler epochs are cut to the same step count). Mean ± sample std over {n_seeds} "
        "seed(s). Rare third = the ceil(K/3) classes with the fewest training "
        f"{'entities' if ner else 'labels'}: {', '.join(task.rare)}. "
        + ("Accuracy is token accuracy; F1 and recall are entity-level (seqeval default "
           "mode); token macro-F1 averages the 12 B-/I- tags (O excluded)."
           if ner else "Accuracy is subset (exact-match) accuracy; F1 is per label.")
        + " Scores from curate.evaluate."
    )
    return [
        {"title": f"{task.name}: test scores by training configuration",
         "columns": ["config", *heads, "train s/run"], "rows": rows, "notes": notes},
        {"title": f"{task.name}: recall of the rarest third of classes",
         "columns": ["config", *task.rare], "rows": rare_rows,
         "notes": "Per-class test recall, mean ± sample std over seeds."},
    ]


def _effect(a: Sequence[float], b: Sequence[float]) -> tuple[float, str]:
    """Mean change b - a and a word for it: beyond the seed noise or within it.

    "Noise" is the root sum of squares of the two sample stds (0 with one seed, so with a
    single seed every change counts).
    """
    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    delta = float(b_.mean() - a_.mean())
    noise = math.hypot(a_.std(ddof=1) if len(a_) > 1 else 0.0,
                       b_.std(ddof=1) if len(b_) > 1 else 0.0)
    if abs(delta) <= noise:
        return delta, "within seed noise"
    return delta, "better" if delta > 0 else "worse"


def findings(outcomes: list[Outcome]) -> list[str]:
    """One data-driven sentence per dataset and balanced configuration."""
    lines = []
    for o in outcomes:
        if "none" not in o.runs or not o.runs["none"]:
            continue
        base = o.runs["none"]
        for config, rs in o.runs.items():
            if config == "none" or not rs:
                continue
            parts = []
            for key, label in (("macro_f1", "macro-F1"), ("rare_recall", "rare-third recall")):
                d, word = _effect([r[key] for r in base], [r[key] for r in rs])
                parts.append(f"{label} {d:+.3f} ({word})")
            lines.append(f"{o.task.name}, {config} vs none: " + ", ".join(parts) + ".")
    return lines


def verdict_table(outcomes: list[Outcome]) -> dict[str, Any]:
    rows = []
    for o in outcomes:
        if "none" not in o.evals:
            continue
        ev = o.evals["none"]
        best = best_balanced(o)
        best_ev = o.evals.get(best) if best else None
        rows.append([
            o.task.name, f"{sum(o.paradox)}/{len(o.paradox)} seeds flagged",
            " ".join(ev.paradox.reasons) or "—",
            best or "—",
            "—" if best_ev is None else ("flagged" if best_ev.paradox.flagged else "not flagged"),
        ])
    return {"title": "Accuracy-paradox verdict of the unbalanced run",
            "columns": ["dataset", "none: verdict", "none: reasons (first seed)",
                        "best balanced (macro-F1)", "its verdict (first seed)"],
            "rows": rows,
            "notes": "curate.evaluate's verdict with its default thresholds and the rare "
                     "classes above."}


def comparison_table(outcomes: list[Outcome]) -> dict[str, Any] | None:
    """``curate.compare(none, best)`` per class on the first seed."""
    import curate

    rows = []
    for o in outcomes:
        best = best_balanced(o)
        if best is None or "none" not in o.evals:
            continue
        cmp = curate.compare(o.evals["none"], o.evals[best], names=("none", best))
        pc = cmp.per_class
        for cls in pc.index:
            rows.append([o.task.name, str(cls), int(pc.loc[cls, "support_none"]),
                         round(float(pc.loc[cls, "recall_none"]), 3),
                         round(float(pc.loc[cls, f"recall_{best}"]), 3),
                         round(float(pc.loc[cls, "recall_delta"]), 3),
                         round(float(pc.loc[cls, "f1_delta"]), 3)])
    if not rows:
        return None
    return {"title": "Per-class change, none → best balanced (curate.compare, first seed)",
            "columns": ["dataset", "class", "support", "recall none", "recall best",
                        "recall Δ", "F1 Δ"],
            "rows": rows, "notes": "Entity types for wnut17_ner; labels for mulan_yeast."}


def write_html(outcome: Outcome, html_dir: Path) -> Path | None:
    """Evaluation report of the best balanced run against the unbalanced one (first seed)."""
    from curate.report import evaluation_report

    best = best_balanced(outcome)
    if best is None or "none" not in outcome.evals:
        return None
    path = html_dir / f"train_effect_{outcome.task.name.split('_')[0]}.html"
    report = evaluation_report(
        outcome.evals[best], outcome.evals["none"], names=(best, "none"),
        title=f"{outcome.task.name}: {best} vs none (seed {0})", max_classes=20,
    )
    report.to_html(path)
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 seed, 1 epoch, 300 training samples per dataset")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; 1 quick)")
    p.add_argument("--datasets", nargs="+", choices=DATASET_NAMES, default=list(DATASET_NAMES))
    p.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda (default cpu)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default benchmarks/results/train_effect.json)")
    p.add_argument("--html-dir", type=Path, default=None,
                   help="where the HTML reports go (default docs/; with --quick the --out folder)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    budgets = QUICK if args.quick else FULL
    seeds = list(range(args.seeds if args.seeds else (1 if args.quick else 3)))
    out = args.out or RESULTS / "train_effect.json"
    html_dir = args.html_dir or (out.parent if args.quick else DOCS)
    start = time.perf_counter()
    outcomes = [run_dataset(name, budgets[name], seeds, args.configs, device,
                            lambda m: print(m, flush=True)) for name in args.datasets]
    total = time.perf_counter() - start
    tables: list[dict[str, Any]] = []
    for o in outcomes:
        tables.extend(tables_for(o, budgets[o.task.name], len(seeds)))
    tables.append(verdict_table(outcomes))
    cmp = comparison_table(outcomes)
    if cmp:
        tables.append(cmp)
    plans = [o for o in outcomes if o.plan is not None]
    if plans:
        tables.append({
            "title": "What the sampler draws (InterClassBalancer plan on the training set)",
            "columns": ["dataset", "status", "samples", "epoch size", "duplicated draws",
                        "removed samples", "max/min class total before", "after", "solve s"],
            "rows": [_plan_row(o) for o in plans],
            "notes": "Balanced table: label instances (mulan_yeast), entity spans per "
                     "sentence (wnut17_ner); default InterClassBalancer options, target size = "
                     "training-set size."})
    links = []
    html_dir.mkdir(parents=True, exist_ok=True)
    for o in outcomes:
        path = write_html(o, html_dir)
        if path is not None:
            links.append({"title": f"Evaluation report, {o.task.name}", "path": str(path)})
    for t in tables:
        print_table(t["title"], t["columns"], t["rows"])
    headline = {}
    for o in outcomes:
        best = best_balanced(o)
        if best and "none" in o.runs:
            headline[o.task.name] = {
                k: {"macro_f1": mean_std([r["macro_f1"] for r in o.runs[k]]),
                    "rare_recall": mean_std([r["rare_recall"] for r in o.runs[k]])}
                for k in ("none", best)} | {"best": best}
    description = [
        "Configurations (same model, optimiser and number of optimiser steps): none = plain "
        "BCE / cross-entropy with uniform shuffling; weighted = curate.class_weights("
        "scheme='inverse_sqrt') (mean 1), used as BCE pos_weight per label on mulan_yeast and "
        "as WeightedCrossEntropy class weights on wnut17_ner, where O gets its own scaled "
        "inverse-sqrt weight (background_weight='scaled'); focal = SigmoidFocalLoss(gamma=2, "
        "alpha=None) / FocalLoss(gamma=2); sampler = BalancedSampler over an "
        "InterClassBalancer plan (default options, same epoch size); sampler+weights = both.",
        "Mean change against the unbalanced run ('none'); 'within seed noise' means the "
        "change is no larger than the root sum of squares of the two seed stds.",
        *findings(outcomes),
    ]
    extra = {
        "description": description,
        "wall_seconds": round(total, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
        "device": str(device), "threads": args.threads, "seeds": seeds, "quick": args.quick,
        "headline": headline, "links": links,
        "runs": {o.task.name: o.runs for o in outcomes},
    }
    tables[0]["notes"] += (f" Whole experiment: {total:.0f} s wall on {device}, "
                           f"{args.threads} torch thread(s).")
    path = write_results("train_effect", tables, out=out, extra=extra)
    print(f"\nwall time {total:.1f}s; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
