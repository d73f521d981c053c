"""The public front door: ``curate.__all__`` lists exactly the public names, and each resolves."""

import importlib

import curate

EXPECTED = {
    "BalancePlan", "BalancedSampler", "ClassWeights", "Evaluation", "ImbalanceStats",
    "InterClassBalancer", "LabelTable", "WeightedSampler", "__version__", "adjust", "augment",
    "balance",
    "class_weights", "compare", "count_labels", "datasets", "evaluate", "exceptions",
    "imbalance_stats", "io", "logit_adjust", "losses", "metrics", "oversample_rare",
    "rare_classes", "report", "sampler", "tune_tau", "labels", "stats", "weights",
    "average_precision", "tune_thresholds", "BalancedIterable", "engine", "stream",
    "integrations", "ray",
}


def test_submodules_reachable_after_import_curate():
    import subprocess
    import sys

    code = ("import curate; print(curate.weights.counts_from_ids([[0, -100, 1]]).tolist(), "
            "curate.stats.imbalance_stats is curate.imbalance_stats, "
            "curate.labels.LabelTable is curate.LabelTable)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=600)
    assert out.stdout.split() == ["[1,", "1]", "True", "True"]


def test_all_is_sorted_and_complete():
    assert curate.__all__ == sorted(EXPECTED)


def test_every_public_name_resolves():
    for name in curate.__all__:
        assert getattr(curate, name) is not None, name


def test_import_is_light():
    code = "import sys, curate; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=600)
    assert out.stdout.split() == ["False", "False"]


def test_submodules_have_sorted_all():
    for name in ("adjust", "balance", "io", "losses", "metrics", "report", "augment", "sampler"):
        mod = importlib.import_module(f"curate.{name}")
        assert list(mod.__all__) == sorted(mod.__all__), name


def test_cli_version_prints_the_package_version(capsys):
    import pytest

    from curate.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"curate {curate.__version__}\n"


def test_version_has_one_source():
    """pyproject.toml reads the version from curate.__version__ (no second copy to forget)."""
    from pathlib import Path

    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "curate.__version__"}
    assert curate.__version__.count(".") == 2
