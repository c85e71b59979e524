"""The command line of the certified reduced basis: train-rb, fit --model rb, evaluate."""

from __future__ import annotations

from nirom.cli import main


def test_train_rb_fit_and_evaluate(tmp_path, capsys):
    greedy, model = tmp_path / "greedy.nirom", tmp_path / "rb"
    args = ["train-rb", "thermal-block", "-d", str(greedy), "-o", str(model)]
    assert main([*args, "--basis", "6", "--candidates", "100", "-s", "resolution=12"]) == 0
    assert "Greedy: 6 solves (0 resumed)" in capsys.readouterr().out
    test = tmp_path / "test.nirom"
    gen = ["generate", "thermal-block", "-n", "4", "-o", str(test), "-w", "0"]
    assert main([*gen, "-s", "resolution=12", "--design", "random", "--seed", "3"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), str(test)]) == 0
    assert "above the error on 100% of samples" in capsys.readouterr().out
    # a dataset without operators: one line, no traceback
    assert main(["fit", str(test), "--model", "rb", "-o", str(tmp_path / "bad")]) != 0
    err = capsys.readouterr()
    text = (err.out + err.err).strip()
    assert "has no operators" in text and "Traceback" not in text
    assert main(["fit", str(greedy), "--model", "rb", "-o", str(tmp_path / "fitted")]) == 0
