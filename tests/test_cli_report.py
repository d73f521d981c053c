"""``curate report`` flag checks through ``main(argv)``; the report itself: test_report.py."""

from __future__ import annotations

import json

import pytest

from curate.cli import main


@pytest.fixture()
def labels(tmp_path):
    path = tmp_path / "labels.json"  # JSON lines, inferred as jsonl
    rows = [["cat"]] * 12 + [["dog"]] * 3 + [["bird"]]
    path.write_text("".join(json.dumps({"labels": r}) + "\n" for r in rows))
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "usage: curate report" in err, err
    return err[err.index("curate report: error: "):]


def test_out_that_is_the_input_is_a_usage_error(labels, tmp_path, capsys):
    before = labels.read_bytes()
    assert main(["report", str(labels), "--out", str(labels), "--no-plots"]) == 2
    line = _error_line(capsys)
    assert f"--out {labels} is the same file as INPUT {labels}" in line
    assert labels.read_bytes() == before


@pytest.mark.parametrize(("argv", "needle"), [
    (["--seed", "0"], "--seed cannot be used without --balance"),
    (["--minimize-duplicates", "--count", "samples", "--max-duplicates", "2"],
     "--minimize-duplicates, --count, --max-duplicates cannot be used without --balance"),
    (["--target-size", "16", "--max-removals", "0.5", "--solver", "lp", "--time-limit", "5"],
     "--target-size, --max-removals, --solver, --time-limit cannot be used without --balance"),
    (["--no-frontier"], "--no-frontier cannot be used without --balance"),
])
def test_balancer_options_need_balance(labels, tmp_path, capsys, argv, needle):
    out = tmp_path / "r.json"
    assert main(["report", str(labels), "--out", str(out), "--no-plots", *argv]) == 2
    assert needle in _error_line(capsys)
    assert not out.exists()
    assert main(["report", str(labels), "--out", str(out), "--no-plots", "--balance",
                 "--no-frontier", *[a for a in argv if a != "--no-frontier"]]) == 0
    assert json.loads(out.read_text())["plan"] is not None
