"""curate.integrations.ultralytics: YOLO trainers on a BalancedSampler, end to end.

The end-to-end tests (marked ``integrations``) need ultralytics, which needs torchvision, which
does not run beside the CPU torch wheel of ``.venv``: ``make test-integrations`` builds
``.venv-integrations`` and runs them there. In ``.venv`` they skip; the label and plan
matching tests run in both.
"""

from __future__ import annotations

import collections
import os
import socket
import types
from pathlib import Path

import numpy as np
import pytest

import curate
from curate._optional import has
from curate.balance import BalancePlan
from curate.integrations import ultralytics as cu
from curate.io import read_yolo
from curate.sampler import BalancedSampler

os.environ.setdefault("YOLO_OFFLINE", "1")  # before ultralytics is imported

NEEDS_ULTRALYTICS = pytest.mark.skipif(
    not (has("ultralytics") and has("torchvision")),
    reason="ultralytics is not installed in this venv (it needs torchvision, which does not run "
           "beside the +cpu torch wheel); run `make test-integrations`, which builds "
           ".venv-integrations from requirements-integrations.txt",
)
NAMES = ["car", "bus", "bike"]
TRAIN_ARGS = dict(epochs=2, imgsz=64, batch=4, device="cpu", amp=False, plots=False, val=False,
                  close_mosaic=1, verbose=False, exist_ok=True, seed=0, deterministic=True)


# ------------------------------------------------------------------------------ datasets
def _image(path: Path, value: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)


def _boxes(i: int) -> list[int]:
    """Class ids of image ``i`` of the train split: car everywhere, bus and bike rare."""
    if i < 11:
        return [0, 0]
    if i < 14:
        return [1, 0]
    return [2]


def _detect_dataset(root: Path, *, segment: bool = False) -> tuple[Path, dict[str, list[int]]]:
    """16 train + 4 val 64×64 images with YOLO labels; returns data.yaml and the truth."""
    truth: dict[str, list[int]] = {}
    for split, n in (("train", 16), ("val", 4)):
        for i in range(n):
            stem = f"{split}{i:02d}"
            _image(root / "images" / split / f"{stem}.jpg", 1000 * (split == "val") + i)
            cls = _boxes(i) if split == "train" else [i % 3]
            lines = []
            for k, c in enumerate(cls):
                x, y = 0.25 + 0.5 * (k % 2), 0.3 + 0.4 * (k // 2)
                if segment:
                    poly = [x - .1, y - .1, x + .1, y - .1, x + .1, y + .1, x - .1, y + .1]
                    lines.append(f"{c} " + " ".join(f"{v:.3f}" for v in poly))
                else:
                    lines.append(f"{c} {x:.3f} {y:.3f} 0.2 0.2")
            label = root / "labels" / split / f"{stem}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text("\n".join(lines) + "\n")
            if split == "train":
                truth[stem] = cls
    data = root / "data.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\n"
                    "names:\n" + "".join(f"  {k}: {n}\n" for k, n in enumerate(NAMES)))
    return data, truth


def _classify_dataset(root: Path) -> tuple[Path, dict[str, str]]:
    truth: dict[str, str] = {}
    sizes = {"car": 12, "bus": 3, "bike": 2}
    for split in ("train", "val"):
        for cls, n in sizes.items():
            for i in range(n if split == "train" else 2):
                stem = f"{split}_{cls}{i}"
                _image(root / split / cls / f"{stem}.jpg", hash(stem) % 10_000)
                if split == "train":
                    truth[stem] = cls
    return root, truth


def _truth_matrix(files: list[str], truth: dict, classes: list[str]) -> np.ndarray:
    """Count matrix in the given image order, from what the test wrote (the oracle)."""
    m = np.zeros((len(files), len(classes)), dtype=np.int64)
    for r, f in enumerate(files):
        labels = truth[Path(f).stem]
        for c in labels if isinstance(labels, list) else [classes.index(labels)]:
            m[r, c] += 1
    return m


# ------------------------------------------------------------------- recording trainers
def _recording(base: type) -> type:
    """``base`` that records, per epoch, every train index the loader fetched (workers=0)."""

    class Recording(base):  # type: ignore[misc, valid-type]
        def build_dataset(self, img_path, mode="train", batch=None):
            ds = super().build_dataset(img_path, mode, batch)
            if mode == "train":
                seen = self.seen = collections.defaultdict(list)
                trainer = self

                class Rec(type(ds)):
                    def __getitem__(self, i):
                        seen[int(trainer.epoch)].append(int(i))
                        return super().__getitem__(i)

                ds.__class__ = Rec
            return ds

    return Recording


@pytest.fixture()
def no_network(monkeypatch):
    """Record (and refuse) every socket connection: training must not download anything."""
    attempts: list = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(original):
        def refuse(self, address, *args, **kwargs):
            if self.family not in (socket.AF_INET, socket.AF_INET6):  # worker pipes are local
                return original(self, address, *args, **kwargs)
            attempts.append(address)
            raise OSError(f"network disabled in this test: {address}")
        return refuse

    monkeypatch.setattr(socket.socket, "connect", guard(connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(connect_ex))
    return attempts


def _check_epochs(trainer, seen: dict[int, list[int]], truth_m: np.ndarray, order=None):
    """Epoch e fetched exactly plan.draw(e) (mapped to dataset indices); totals agree."""
    plan = trainer.curate_plan
    assert sorted(seen) == [0, 1]
    for epoch in (0, 1):
        x = plan.draw(epoch)
        rows = np.repeat(np.arange(plan.n_samples), x)
        expected = rows if order is None else order[rows]
        assert collections.Counter(seen[epoch]) == collections.Counter(expected.tolist())
        fetched = np.bincount(seen[epoch], minlength=truth_m.shape[0])
        totals = truth_m.T @ fetched
        assert totals.tolist() == trainer.curate_class_totals[epoch].tolist()
        assert totals.tolist() == plan.class_totals(x).tolist()


# ------------------------------------------------------------------------- end to end
@pytest.mark.integrations
@NEEDS_ULTRALYTICS
@pytest.mark.timeout(300)
@pytest.mark.parametrize("task", ["detect", "segment"])
def test_detect_and_segment_sample_the_plan(task, tmp_path, no_network):
    from ultralytics import YOLO

    data, truth = _detect_dataset(tmp_path / "ds", segment=task == "segment")
    base = cu.balanced_trainer(curate.InterClassBalancer(), task=task)
    model = YOLO("yolov8n.yaml" if task == "detect" else "yolov8n-seg.yaml")
    model.train(data=str(data), trainer=_recording(base), workers=0,
                project=str(tmp_path / "runs"), name=task, **TRAIN_ARGS)
    trainer = model.trainer
    loader = trainer.train_loader
    assert isinstance(loader.sampler, BalancedSampler)
    assert loader.sampler is trainer.curate_sampler
    assert not isinstance(getattr(trainer.test_loader, "sampler", None), BalancedSampler)
    files = list(loader.dataset.im_files)
    assert list(trainer.curate_plan.table.sample_ids) == files  # rows in the dataset's order
    _check_epochs(trainer, trainer.seen, _truth_matrix(files, truth, NAMES))
    # the plan balances: the rare classes are drawn more often than they occur
    before = _truth_matrix(files, truth, NAMES).sum(axis=0)
    after = trainer.curate_class_totals[0].to_numpy()
    assert after[2] / after.sum() > before[2] / before.sum()
    assert no_network == []


@pytest.mark.integrations
@NEEDS_ULTRALYTICS
@pytest.mark.timeout(300)
def test_plan_in_another_order_with_workers(tmp_path, no_network):
    """A plan fitted on read_yolo's table (reversed) is matched by path; workers=2 prefetch."""
    from ultralytics import YOLO

    data, truth = _detect_dataset(tmp_path / "ds")
    table = read_yolo(tmp_path / "ds", split="train")
    table = table.select(np.arange(table.n_samples)[::-1])
    plan = curate.InterClassBalancer().fit(table)
    seen: dict[int, list[int]] = collections.defaultdict(list)

    class Recording(cu.balanced_trainer(plan, task="detect")):  # type: ignore[misc]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.args.workers = 2  # ultralytics sets 0 on CPU; the workers prefetch ahead

        def preprocess_batch(self, batch):  # main process: sees what the workers loaded
            index = {f: i for i, f in enumerate(self.train_loader.dataset.im_files)}
            if self.model.training:
                seen[int(self.epoch)].extend(index[f] for f in batch["im_file"])
            return super().preprocess_batch(batch)

    model = YOLO("yolov8n.yaml")
    assert not np.array_equal(plan.draw(0), plan.draw(1))  # else the check below is blind
    # close_mosaic=0: no loader reset between the epochs, so the workers prefetch across them
    model.train(data=str(data), trainer=Recording, workers=2, project=str(tmp_path / "runs"),
                name="w", **{**TRAIN_ARGS, "close_mosaic": 0})
    trainer = model.trainer
    assert trainer.train_loader.num_workers == 2
    sampler = trainer.train_loader.sampler
    assert isinstance(sampler.sampler, BalancedSampler)
    files = list(trainer.train_loader.dataset.im_files)
    order = np.array([files.index(next(f for f in files if Path(f).stem == Path(s).name))
                      for s in plan.table.sample_ids])
    assert order.tolist() == list(range(len(files)))[::-1]
    _check_epochs(trainer, seen, _truth_matrix(files, truth, NAMES), order=order)
    assert no_network == []


@pytest.mark.integrations
@NEEDS_ULTRALYTICS
@pytest.mark.timeout(300)
def test_classify_one_call(tmp_path, no_network):
    root, truth = _classify_dataset(tmp_path / "cls")
    recorded: dict = {}

    import ultralytics.models.yolo.classify as ycls

    base = _recording(cu.balanced_trainer(curate.InterClassBalancer(),
                                          base=ycls.ClassificationTrainer))
    # train() builds its own class; check it end to end, then the recording one for indices
    trainer = cu.train("yolov8n-cls.yaml", data=root, balance=curate.InterClassBalancer(),
                       workers=0, project=str(tmp_path / "runs"), name="one", **TRAIN_ARGS)
    assert isinstance(trainer.train_loader.sampler, BalancedSampler)
    assert sorted(trainer.curate_class_totals) == [0, 1]
    from ultralytics import YOLO

    model = YOLO("yolov8n-cls.yaml")
    model.train(data=str(root), trainer=base, workers=0, project=str(tmp_path / "runs"),
                name="rec", **TRAIN_ARGS)
    t = model.trainer
    names = [t.data["names"][k] for k in sorted(t.data["names"])]
    files = [str(s[0]) for s in t.train_loader.dataset.samples]
    recorded.update(t.seen)
    _check_epochs(t, recorded, _truth_matrix(files, truth, names))
    assert no_network == []


# --------------------------------------------------- labels and plan matching (any venv)
def _fake_detect(tmp_path: Path) -> types.SimpleNamespace:
    _detect_dataset(tmp_path / "ds")
    files = sorted(str(p) for p in (tmp_path / "ds" / "images" / "train").glob("*.jpg"))
    return types.SimpleNamespace(im_files=files)


def test_table_matches_read_yolo(tmp_path):
    ds = _fake_detect(tmp_path)
    table = cu.table_from_yolo_dataset(ds, dict(enumerate(NAMES)))
    ref = read_yolo(tmp_path / "ds", split="train")  # the independent reader
    assert table.classes == ref.classes
    assert (table.matrix != ref.matrix).nnz == 0
    assert list(table.sample_ids) == ds.im_files


def test_missing_label_file_is_an_empty_image(tmp_path):
    ds = _fake_detect(tmp_path)
    (tmp_path / "ds" / "labels" / "train" / "train15.txt").unlink()
    table = cu.table_from_yolo_dataset(ds, NAMES)
    assert table.matrix[15].nnz == 0 and table.n_samples == 16


def test_unknown_class_id_names_the_file(tmp_path):
    ds = _fake_detect(tmp_path)
    (tmp_path / "ds" / "labels" / "train" / "train03.txt").write_text("7 .5 .5 .1 .1\n")
    with pytest.raises(ValueError, match=r"train03\.txt has class id 7"):
        cu.table_from_yolo_dataset(ds, NAMES)


@pytest.mark.parametrize("bad", ["abc", 3, None])
def test_names_must_be_a_list_or_dict(tmp_path, bad):
    with pytest.raises(TypeError, match="'names' parameter"):
        cu.table_from_yolo_dataset(_fake_detect(tmp_path), bad)


def test_dataset_type_checked():
    with pytest.raises(TypeError, match=r"im_files .* or samples"):
        cu.table_from_yolo_dataset(object(), NAMES)


def test_plan_order_by_path(tmp_path):
    ds = _fake_detect(tmp_path)
    table = cu.table_from_yolo_dataset(ds, NAMES)
    ref = read_yolo(tmp_path / "ds")  # ids like "train/train03", rows of both splits
    train = ref.select([i for i, s in enumerate(ref.sample_ids) if s.startswith("train")])
    perm = np.random.default_rng(0).permutation(train.n_samples)
    plan = curate.InterClassBalancer().fit(train.select(perm))
    order = cu._plan_order(plan, table)
    assert [Path(ds.im_files[o]).stem for o in order] == \
           [Path(s).name for s in plan.table.sample_ids]


def test_plan_order_errors(tmp_path):
    ds = _fake_detect(tmp_path)
    table = cu.table_from_yolo_dataset(ds, NAMES)
    ref = read_yolo(tmp_path / "ds", split="train")
    short = curate.InterClassBalancer().fit(ref.select(np.arange(15)))
    with pytest.raises(ValueError, match=r"train15\.jpg' has no plan row"):
        cu._plan_order(short, table)
    numbered = curate.InterClassBalancer().fit(curate.LabelTable(ref.matrix, ref.classes))
    with pytest.raises(ValueError, match=r"sample_ids\[0\] = .* matches no image"):
        cu._plan_order(numbered, table)
    plan = curate.InterClassBalancer().fit(ref)
    (tmp_path / "ds" / "labels" / "train" / "train00.txt").write_text("2 .5 .5 .1 .1\n")
    with pytest.raises(ValueError, match=r"labels of .*train00\.jpg' differ"):
        cu._plan_order(plan, cu.table_from_yolo_dataset(ds, NAMES))


def test_dataset_order_sampler_maps_rows():
    t = curate.LabelTable.from_labels([["a"], ["b"], ["b"]], sample_ids=["x", "y", "z"])
    plan = BalancePlan.from_multiplicity(t, [2, 1, 0])
    wrapped = cu._DatasetOrder(BalancedSampler(plan, shuffle=False), np.array([2, 0, 1]))
    wrapped.set_epoch(0)
    assert list(wrapped) == [2, 2, 0] and len(wrapped) == 3


def test_bad_arguments_before_import():
    with pytest.raises(TypeError, match="'balance' parameter of balanced_trainer"):
        cu.balanced_trainer(42)
    with pytest.raises(ValueError, match="'task' parameter"):
        cu.balanced_trainer(curate.InterClassBalancer(), task="pose")
    with pytest.raises(ValueError, match="seed"):
        cu.balanced_trainer(curate.InterClassBalancer(), seed=-1)
    with pytest.raises(ValueError, match="builds the trainer itself"):
        cu.train("m.yaml", data="d.yaml", balance=curate.InterClassBalancer(), trainer=object)


@pytest.mark.skipif(has("ultralytics"), reason="ultralytics is installed here")
def test_missing_ultralytics_says_how_to_install():
    with pytest.raises(ImportError, match="make test-integrations"):
        cu.balanced_trainer(curate.InterClassBalancer(), task="detect")
