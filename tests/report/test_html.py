"""The HTML report: one self-contained file, rendered by headless Chromium, plots showing."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from nirom.apps.uq import propagate
from nirom.report.html import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Appended to a copy of the page: records, once loaded, how many images decoded to a real size.
PROBE = """<script>window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length;
  document.body.setAttribute('data-images', imgs.length + ' ' + ok);
});</script>"""


@pytest.fixture(scope="module")
def report(small_block, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    propagate(small_block.gp, n_samples=128, quantities=["max(u)"]).save(
        out / "results" / "uq", small_block.gp.mesh_
    )
    return write_report(
        small_block.gp,
        small_block.test,
        out / "report.html",
        model_path=small_block.gp_path,
        results=[out / "results"],
    )


def test_the_report_is_one_self_contained_file(report: Path, small_block) -> None:
    page = report.read_text(encoding="utf-8")
    for heading in (
        "Training data",
        "Model card",
        "Test metrics",
        "Calibration of the error bars",
        "Worst test samples",
        "Speed",
        "Uncertainty propagation",
    ):
        assert f"<h2>{heading}" in page, heading
    assert not re.search(r"(src|href)=['\"](?!data:)", page)  # nothing loaded from elsewhere
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) >= 5
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert str(small_block.train.path.resolve()) in page  # found through the fit record
    assert "<td>std calibration (" in page  # pod-gp's factors per mode, in the card


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package 'chromium')")
def test_chromium_shows_the_plots(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    total, loaded = map(int, re.search(r'data-images="(\d+) (\d+)"', dom).groups())
    assert total >= 5 and loaded == total
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1200,4800",  # the whole report: plots sit below tables
                f"--screenshot={shot}",
                report.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    colourful = np.ptp(pixels, axis=-1) > 0.2  # plots' colour maps, not black text on white
    assert colourful.mean() > 0.01, colourful.mean()
