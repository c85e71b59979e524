"""A stand-alone solver nirom knows nothing about: -k Lap u = f on the unit square,
u = 0 on the boundary, 5-point finite differences; writes result.vtu, and with
``--matrix`` also its system: A.mtx, b.mtx (MatrixMarket) and free.txt (the
mesh node of each unknown)."""

import sys
import tomllib

import meshio
import numpy as np
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as spla

with open("input.toml", "rb") as fh:
    cfg = tomllib.load(fh)
n = cfg["cells"]
h = 1.0 / n
m = n - 1  # interior nodes per side
lap1d = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(m, m)) / h**2
eye = sp.identity(m)
stiffness = cfg["conductivity"] * (sp.kron(eye, lap1d) + sp.kron(lap1d, eye))
rhs = np.full(m * m, cfg["source"])
u_inner = spla.spsolve(stiffness.tocsc(), rhs)

x, y = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1))
u = np.zeros((n + 1, n + 1))
u[1:-1, 1:-1] = u_inner.reshape(m, m)
points = np.column_stack([x.ravel(), y.ravel()])
quads = [
    [j * (n + 1) + i, j * (n + 1) + i + 1, (j + 1) * (n + 1) + i + 1, (j + 1) * (n + 1) + i]
    for j in range(n)
    for i in range(n)
]
meshio.write(
    "result.vtu", meshio.Mesh(points, [("quad", np.array(quads))], point_data={"u": u.ravel()})
)
if "--matrix" in sys.argv:
    scipy.io.mmwrite("A.mtx", sp.coo_matrix(stiffness), precision=17)
    scipy.io.mmwrite("b.mtx", rhs[:, None], precision=17)
    i, j = np.meshgrid(np.arange(1, n), np.arange(1, n))
    np.savetxt("free.txt", (j * (n + 1) + i).ravel(), fmt="%d")
print(f"solved: max u = {u.max():.6g}")
