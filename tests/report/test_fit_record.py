"""The fit record keeps the warnings a fit raised, and the model card shows them."""

from __future__ import annotations

import json
import warnings

import pytest

from nirom.report.card import read_fit_record, recorded_warnings, write_fit_record


def test_recorded_warnings_keep_user_warnings_once_and_still_show_them(tmp_path) -> None:
    with pytest.warns(UserWarning) as shown, recorded_warnings() as raised:
        for _ in range(2):
            warnings.warn("too few samples for u\nsecond line", UserWarning, stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    assert raised == ["UserWarning: too few samples for u"]
    assert any("too few samples" in str(w.message) for w in shown)  # shown as before
    write_fit_record(tmp_path, 1.5, None, 3, raised)
    assert read_fit_record(tmp_path)["fit_warnings"] == raised
    write_fit_record(tmp_path, 1.5, None, 3)
    assert "fit_warnings" not in json.loads((tmp_path / "fit.json").read_text())
