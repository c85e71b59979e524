"""PETSc binary matrices and vectors (petsc4py's own files from FEniCSx, in tests/data),
and both forms of a program's system: the free-free block, or the whole matrix with
identity Dirichlet rows."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nirom.solvers import SolverError
from nirom.solvers.command import CommandSolver
from nirom.solvers.matrix_market import dirichlet_rows, read_matrix, read_system, read_vector
from nirom.solvers.petsc_binary import petsc_kind, read_petsc_vector

DOLFINX = Path(__file__).resolve().parents[1] / "data" / "dolfinx"


def write_petsc(path: Path, obj: sp.spmatrix | np.ndarray, index: str = ">i4") -> None:
    """PETSc's binary format by hand (MatView / VecView), PetscInt of type ``index``."""
    if sp.issparse(obj):
        a = sp.csr_matrix(obj)
        a.sort_indices()
        head = np.array([1211216, *a.shape, a.nnz], dtype=index)
        parts = [head, np.diff(a.indptr).astype(index), a.indices.astype(index)]
        values = a.data
    else:
        parts = [np.array([1211214, obj.size], dtype=index)]
        values = obj
    path.write_bytes(b"".join(p.tobytes() for p in parts) + values.astype(">f8").tobytes())


def test_petsc4py_files_equal_their_matrix_market_twins() -> None:
    assert petsc_kind(DOLFINX / "system_A.petsc") == "Mat"
    assert petsc_kind(DOLFINX / "system_b.petsc") == "Vec"
    assert petsc_kind(DOLFINX / "system_A.mtx") is None
    a, b = read_matrix(DOLFINX / "system_A.petsc"), read_vector(DOLFINX / "system_b.petsc")
    twin = read_matrix(DOLFINX / "system_A.mtx")
    assert a.shape == (16, 16) and (a != twin).nnz == 0
    np.testing.assert_array_equal(b, read_vector(DOLFINX / "system_b.mtx"))


def test_the_whole_dolfinx_matrix_reduces_to_dolfinx_solution() -> None:
    """assemble_matrix(a, bcs) + apply_lifting + set_bc: identity Dirichlet rows, the
    rhs holding the boundary values; dolfinx's dof i is mesh node system_nodes[i]."""
    expected = np.load(DOLFINX / "system.npz")
    u = expected["u"]
    nodes = DOLFINX / "system_nodes.txt"
    system = read_system(DOLFINX / "system_A.petsc", DOLFINX / "system_b.petsc", nodes, u)
    assert system.matrix.shape == (4, 4)  # the interior nodes of a 3 x 3 grid
    fixed = np.setdiff1d(np.arange(16), system.free)
    np.testing.assert_array_equal(fixed, expected["dirichlet_nodes"])
    np.testing.assert_allclose(system.dirichlet[fixed], expected["g"][fixed], rtol=1e-14)
    x = spla.spsolve(system.matrix.tocsc(), system.rhs)
    np.testing.assert_allclose(system.to_nodes(x), u, rtol=1e-12, atol=1e-14)
    # The same from the MatrixMarket twins, and "auto" took the full form.
    twin = read_system(DOLFINX / "system_A.mtx", DOLFINX / "system_b.mtx", nodes, u, "full")
    assert (twin.matrix != system.matrix).nnz == 0
    np.testing.assert_array_equal(twin.rhs, system.rhs)


def test_a_wrong_row_to_node_map_is_caught_by_the_dirichlet_values(tmp_path: Path) -> None:
    u = np.load(DOLFINX / "system.npz")["u"]
    shuffled = np.random.default_rng(0).permutation(16)
    np.savetxt(tmp_path / "nodes.txt", shuffled, fmt="%d")
    with pytest.raises(SolverError, match=r"Dirichlet row\(s\) impose other values") as info:
        read_system(
            DOLFINX / "system_A.petsc", DOLFINX / "system_b.petsc", tmp_path / "nodes.txt", u
        )
    assert "\n" not in str(info.value)


def _stiffness(n: int) -> sp.csr_matrix:
    lap = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    return sp.csr_matrix(sp.kron(sp.identity(n), lap) + sp.kron(lap, sp.identity(n)))


def test_rows_only_zeroing_and_the_free_block_give_the_same_system(tmp_path: Path) -> None:
    """Codes that replace the Dirichlet rows but keep the columns: b_f - A_fd g."""
    k = _stiffness(5)  # 25 nodes
    f = np.linspace(1.0, 2.0, 25)
    fixed = np.array([0, 1, 2, 3, 4, 24])
    g = np.linspace(-1.0, 1.0, fixed.size)
    free = np.setdiff1d(np.arange(25), fixed)
    whole = k.tolil()
    whole[fixed, :] = 0.0
    whole[fixed, fixed] = 3.0  # a diagonal other than 1: the rhs holds 3 g
    rhs = f.copy()
    rhs[fixed] = 3.0 * g
    truth = spla.spsolve(whole.tocsc(), rhs)
    write_petsc(tmp_path / "A", sp.csr_matrix(whole), ">i8")  # a 64-bit-index PETSc
    write_petsc(tmp_path / "b", rhs, ">i8")
    full = read_system(tmp_path / "A", tmp_path / "b", None, truth)
    np.testing.assert_array_equal(full.free, free)
    x = spla.spsolve(full.matrix.tocsc(), full.rhs)
    np.testing.assert_allclose(full.to_nodes(x), truth, rtol=1e-12)
    # The free form of the same system: the block, its rhs, and the node of each unknown.
    scipy.io.mmwrite(tmp_path / "Aff.mtx", k[free][:, free], precision=17)
    scipy.io.mmwrite(tmp_path / "bf.mtx", (f[free] - k[free][:, fixed] @ g)[:, None], precision=17)
    np.savetxt(tmp_path / "free.txt", free, fmt="%d")
    block = read_system(tmp_path / "Aff.mtx", tmp_path / "bf.mtx", tmp_path / "free.txt", truth)
    np.testing.assert_allclose(block.matrix.toarray(), full.matrix.toarray(), rtol=1e-15)
    np.testing.assert_allclose(block.rhs, full.rhs, rtol=1e-13)
    np.testing.assert_allclose(block.dirichlet, full.dirichlet, rtol=1e-13)


def test_explicit_zeros_do_not_hide_an_identity_row() -> None:
    a = sp.csr_matrix(
        (np.array([1.0, 0.0, 0.0, 2.0, -1.0]), ([0, 0, 1, 1, 1], [0, 1, 0, 1, 2])), shape=(3, 3)
    )
    fixed, diagonal = dirichlet_rows(a)
    assert fixed.tolist() == [0] and diagonal.tolist() == [1.0]  # row 2 (all zero) is not one


def test_damaged_petsc_files_are_one_line_errors(tmp_path: Path) -> None:
    matrix = _stiffness(3)
    write_petsc(tmp_path / "A", matrix)
    data = (tmp_path / "A").read_bytes()
    (tmp_path / "cut").write_bytes(data[:-12])
    nz = matrix.nnz  # complex values: 16 bytes each
    (tmp_path / "complex").write_bytes(data[: -8 * nz] + np.zeros(2 * nz, ">f8").tobytes())
    for name, match in (
        ("cut", "truncated PETSc binary file"),
        ("complex", "complex PETSc values"),
    ):
        with pytest.raises(SolverError, match=match) as info:
            read_matrix(tmp_path / name)
        assert str(info.value).startswith(str(tmp_path / name)) and "\n" not in str(info.value)
    with pytest.raises(SolverError, match="not a PETSc binary vector"):
        read_petsc_vector(tmp_path / "A")


# A program that writes its whole matrix in PETSc binary (identity Dirichlet rows).
PROGRAM = textwrap.dedent(
    """
    import json
    import meshio
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    k = json.load(open("input.json"))["k"]
    n = 5
    lap = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    a = (k * (sp.kron(sp.identity(n), lap) + sp.kron(lap, sp.identity(n)))).tolil()
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    points = np.column_stack([x.ravel(), y.ravel()])
    boundary = np.flatnonzero((points == 0).any(1) | (points == 1).any(1))
    b = np.ones(n * n)
    a[boundary, :] = 0.0
    a[boundary, boundary] = 1.0
    b[boundary] = points[boundary, 0]
    a = sp.csr_matrix(a)
    a.sort_indices()
    u = spla.spsolve(a.tocsc(), b)
    quads = [[j * n + i, j * n + i + 1, (j + 1) * n + i + 1, (j + 1) * n + i]
             for j in range(n - 1) for i in range(n - 1)]
    meshio.write("result.vtu", meshio.Mesh(points, [("quad", np.array(quads))],
                 point_data={"u": u}))
    def out(path, parts, values):
        with open(path, "wb") as fh:
            fh.write(b"".join(np.asarray(p, ">i4").tobytes() for p in parts))
            fh.write(np.asarray(values, ">f8").tobytes())
    out("A.petsc", [[1211216, n * n, n * n, a.nnz], np.diff(a.indptr), a.indices], a.data)
    out("b.petsc", [[1211214, n * n]], b)
    """
)


def test_a_command_writing_its_whole_matrix_in_petsc_binary(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "run.py").write_text(PROGRAM)
    (template / "input.json.j2").write_text('{"k": {{ k }}}\n')
    config = tmp_path / "solver.toml"
    config.write_text(
        f'template = "template"\ncommand = [{json.dumps(sys.executable)}, "run.py"]\n'
        'output = "result.vtu"\nfields = ["u"]\n'
        '[operators]\nmatrix = "A.petsc"\nrhs = "b.petsc"\nform = "full"\n'
        '[[parameters]]\nname = "k"\nkind = "uniform"\nlow = 1.0\nhigh = 2.0\n'
    )
    solver = CommandSolver(config)
    system = solver.system({"k": 1.5})
    assert system.matrix.shape == (9, 9)  # the 3 x 3 interior nodes
    fields = solver.solve({"k": 1.5})
    x = spla.spsolve(system.matrix.tocsc(), system.rhs)
    np.testing.assert_allclose(system.to_nodes(x), fields["u"], rtol=1e-12, atol=1e-14)
