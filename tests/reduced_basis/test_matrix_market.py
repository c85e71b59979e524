"""MatrixMarket import of the systems external programs write."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nirom.solvers import SolverError
from nirom.solvers.matrix_market import read_matrix, read_system, read_vector


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    a = sp.random(30, 30, density=0.1, random_state=1, format="coo") + sp.identity(30)
    b = rng.standard_normal(30)
    scipy.io.mmwrite(tmp_path / "A.mtx", a, precision=17)
    scipy.io.mmwrite(tmp_path / "b.mtx", b[:, None], precision=17)
    np.savetxt(tmp_path / "free.txt", np.arange(5, 35), fmt="%d")
    assert (read_matrix(tmp_path / "A.mtx") != sp.csr_matrix(a)).nnz == 0
    np.testing.assert_array_equal(read_vector(tmp_path / "b.mtx"), b)
    values = np.linspace(1.0, 2.0, 40)
    system = read_system(tmp_path / "A.mtx", tmp_path / "b.mtx", tmp_path / "free.txt", values)
    np.testing.assert_array_equal(system.free, np.arange(5, 35))
    np.testing.assert_array_equal(system.dirichlet[:5], values[:5])


def test_bad_files_are_one_line_errors(tmp_path):
    scipy.io.mmwrite(tmp_path / "rect.mtx", sp.coo_matrix(np.ones((3, 4))))
    scipy.io.mmwrite(tmp_path / "sq.mtx", sp.identity(3, format="coo"))
    scipy.io.mmwrite(tmp_path / "b4.mtx", np.ones((4, 1)))
    (tmp_path / "junk.mtx").write_text("not a matrix\n")
    np.savetxt(tmp_path / "free.txt", [0, 1, 1], fmt="%d")
    cases = [
        (lambda: read_matrix(tmp_path / "rect.mtx"), "not square"),
        (lambda: read_matrix(tmp_path / "junk.mtx"), "not a readable MatrixMarket"),
        (lambda: read_matrix(tmp_path / "missing.mtx"), "not written by the program"),
        (
            lambda: read_system(tmp_path / "sq.mtx", tmp_path / "b4.mtx", None, np.zeros(3)),
            "4 entries for a 3 x 3 matrix",
        ),
    ]
    for call, message in cases:
        with pytest.raises(SolverError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    scipy.io.mmwrite(tmp_path / "b3.mtx", np.ones((3, 1)))
    with pytest.raises(SolverError, match="distinct"):
        read_system(tmp_path / "sq.mtx", tmp_path / "b3.mtx", tmp_path / "free.txt", np.zeros(5))
    with pytest.raises(SolverError, match="give the unknown-to-node map"):
        read_system(tmp_path / "sq.mtx", tmp_path / "b3.mtx", None, np.zeros(5))
