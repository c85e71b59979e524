"""Write the format-1 model fixtures of test_format_v1.py and the predictions they gave.

Run once with nirom at commit 8722b1a (model format 1, before issue 15):
``python make_fixtures.py tests/surrogates/format_v1 /tmp/v1data``. Kept for the
record; run with a later nirom it writes the later format.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from nirom import Dataset, FieldInput, FieldSpec, Mesh, ParameterSpace, Uniform
from nirom.surrogates import DeepONetSurrogate, FNOSurrogate, PODSurrogate

torch.set_num_threads(1)
out = Path(sys.argv[1])
tmp = Path(sys.argv[2])
shutil.rmtree(tmp, ignore_errors=True)
tmp.mkdir()
# scalar-parameter dataset on a 5 x 5 grid of points (triangle mesh)
x = np.linspace(0, 1, 5)
xx, yy = np.meshgrid(x, x)
pts = np.column_stack([xx.ravel(), yy.ravel()])
tri = []
for j in range(4):
    for i in range(4):
        a = j * 5 + i
        tri += [[a, a + 1, a + 6], [a, a + 6, a + 5]]
mesh = Mesh(pts, [("triangle", np.array(tri))])
space = ParameterSpace([Uniform("a", 0.0, 1.0), Uniform("b", 1.0, 2.0)])
ds = Dataset.create(tmp / "scalar", space, [FieldSpec("u"), FieldSpec("v", components=2)], mesh)
for i, row in enumerate(space.sample(12, "sobol", seed=0)):
    a, b = row
    u = 1 + np.sin(np.pi * a) * pts[:, 0] + b**2 * pts[:, 1]
    ds.append(
        {"a": a, "b": b},
        {"u": u, "v": np.column_stack([a * pts[:, 0], b * pts[:, 1]])},
        sample_id=i,
    )
query = np.array([[0.3, 1.2], [0.7, 1.9]])
preds = {}
for name, model in {
    "pod-gp": PODSurrogate(regressor="gp", regressor_params={"n_restarts": 0}),
    "pod-rbf": PODSurrogate(regressor="rbf", n_modes=2),
    "pod-mlp": PODSurrogate(
        regressor="mlp", energy=1e-8, regressor_params={"hidden": [4], "epochs": 20}
    ),
}.items():
    model.fit(ds)
    model.save(out / name)
    mean = model.predict(query, return_std=False)
    preds[name] = {k: v.tolist() for k, v in mean.items()}
    if name == "pod-gp":
        _, std = model.predict(query, return_std=True)
        preds[name + "/std"] = {k: v.tolist() for k, v in std.items()}
# field-input dataset on a periodic grid of 16 points
n = 16
grid = np.arange(n) / n
fmesh = Mesh(np.column_stack([grid, np.zeros(n)]), [("line", np.c_[0 : n - 1, 1:n])])
fspace = ParameterSpace([FieldInput("u0", (n,))])
fds = Dataset.create(tmp / "field", fspace, [FieldSpec("u", "point")], fmesh)
rng = np.random.default_rng(0)
for _ in range(8):
    u0 = np.sin(2 * np.pi * grid * rng.integers(1, 3)) + rng.normal(size=1)
    fds.append({"u0": u0}, {"u": 0.5 * u0 + 1.0})
fq = [fds.parameter_sets()[0]]
for name, model in {
    "fno": FNOSurrogate(
        modes=2, width=4, n_layers=1, projection_channels=4, epochs=2, batch_size=4, progress=False
    ),
    "deeponet": DeepONetSurrogate(
        branch_layers=(4,), trunk_layers=(4,), latent=3, epochs=2, batch_size=4, progress=False
    ),
    "pod-mlp-fields": PODSurrogate(
        regressor="mlp", input_modes=3, regressor_params={"hidden": [3], "epochs": 5}
    ),
}.items():
    model.fit(fds)
    model.save(out / name)
    preds[name] = {k: v.tolist() for k, v in model.predict(fq).items()}
    np.save(out / "u0.npy", fq[0]["u0"])
(out / "predictions.json").write_text(
    json.dumps({"scalar_query": query.tolist(), "predictions": preds})
)
