"""``make demo`` runs end to end (on a small instance of the built-in dataset)."""

from __future__ import annotations

from curate.demo import main


def test_demo_runs_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["--n-samples", "400", "--n-classes", "10", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for part in ("imbalance_stats", "class_weights", "InterClassBalancer", "BalancedSampler",
                 "epoch 1", "wrote"):
        assert part in text, part
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "<img" in html
