"""Shared fixtures: the real datasets folder (skipped cleanly when absent) and seeded RNGs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# "ci" (the default) draws the same examples in every run, so a submission's CI cannot fail
# on a case no earlier run met; "explore" (HYPOTHESIS_PROFILE=explore) draws new ones, more
# of them: run it to hunt for such cases and pin what it finds with @example.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "explore", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CURATE_DATASETS", ROOT.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``../shared/datasets`` (or ``$CURATE_DATASETS``); skips the test when it is absent."""
    if not DATASETS.is_dir():
        pytest.skip(f"real datasets not found at {DATASETS}")
    return DATASETS


def dataset_path(name: str, file: str = "labels.parquet") -> Path:
    """Path of one shared dataset file, skipping the calling test when it is missing."""
    path = DATASETS / name / file
    if not path.is_file():
        pytest.skip(f"dataset file not found: {path}")
    return path


@pytest.fixture()
def rng() -> np.random.Generator:
    """A seeded generator (never the global RNG)."""
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster with 2 worker CPUs, started once per test module that asks for it."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    import logging

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    yield ray
    ray.shutdown()
