"""Mechanics case files: the built-in cases as files, meshes from files, checked entries."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest
from rich.console import Console

from nirom.cases import BUILTIN, CaseDescription
from nirom.cases.meshes import write_gmsh
from nirom.dataset import Dataset
from nirom.errors import MeshError, ParameterError
from nirom.generation import generate
from nirom.solvers import CaseSolver, load_case, make_solver, resolve_solver

SMALL = {"resolution": 3, "cycles": 1, "steps_per_cycle": 8}
MU = {"load": 130.0, "R0": 120.0, "C": 2e4}


@pytest.mark.parametrize("name", ["plate-hole", "thick-cylinder"])
def test_the_shipped_case_files_are_the_builtin_cases_defaults(name: str) -> None:
    """The files under nirom/cases/builtin are what the built-in cases' default options
    build, so the two ways to name a case cannot drift apart."""
    assert (BUILTIN / f"{name}.toml").is_file()
    assert load_case(name).description.to_dict() == make_solver(name).description.to_dict()


def test_a_case_file_reproduces_the_builtin_plate_hole_bit_for_bit(tmp_path: Path) -> None:
    builtin = make_solver("plate-hole", SMALL)
    path = tmp_path / "plate.toml"
    path.write_text(builtin.description.to_toml())
    quiet = Console(quiet=True)
    a = generate("plate-hole", tmp_path / "a.nirom", 2, workers=0, solver_options=SMALL,
                 console=quiet).dataset  # fmt: skip
    b = generate(path, tmp_path / "b.nirom", 2, workers=0, console=quiet).dataset
    assert b.provenance["generation"]["solver"]["name"] == "mechanics"
    for i in a.sample_ids():
        fa, fb = a.sample(i).fields, b.sample(i).fields
        assert set(fa) == set(fb)
        for name in fa:
            assert np.array_equal(fa[name], fb[name]), name


@pytest.mark.parametrize(
    "options", [SMALL, {**SMALL, "degree": 1}, {**SMALL, "layers": 1, "resolution": 2}]
)
def test_a_case_on_its_mesh_written_to_gmsh_solves_the_same(tmp_path: Path, options: dict) -> None:
    """The mesh written by write_gmsh (P1/P2, 2D/3D, named groups) read back through a
    case file gives the same nodes, boundaries and solution, bit for bit."""
    builtin = make_solver("plate-hole", options)
    write_gmsh(builtin.fe_space, tmp_path / "plate.msh")
    data = builtin.description.to_dict()
    data["mesh"] = {"file": str(tmp_path / "plate.msh"), "degree": builtin.fe_space.degree}
    case = CaseSolver(data)
    assert builtin.fe_space.mesh.node_order(case.fe_space.mesh) is None
    assert {k: len(v) for k, v in case.fe_space.boundaries.items()} == {
        k: len(v) for k, v in builtin.fe_space.boundaries.items()
    }
    assert np.array_equal(case.solve(MU)["u"], builtin.solve(MU)["u"])


def _shuffled_msh(source: Path, target: Path, seed: int = 0) -> None:
    """The Gmsh file with its nodes renumbered, its cells shuffled and every triangle6
    rotated (vertices and edge nodes together)."""
    m = meshio.read(source)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(m.points))
    new_of = np.argsort(perm)
    cells, physical = [], []
    for b, block in enumerate(m.cells):
        data = new_of[block.data]
        if block.type == "triangle6":
            shift = rng.integers(0, 3, size=len(data))
            for r in (1, 2):
                rows = shift == r
                data[rows] = np.column_stack(
                    [np.roll(data[rows, :3], -r, axis=1), np.roll(data[rows, 3:], -r, axis=1)]
                )
        order = rng.permutation(len(data))
        cells.append((block.type, data[order]))
        physical.append(np.asarray(m.cell_data["gmsh:physical"][b])[order])
    shuffled = meshio.Mesh(
        m.points[perm],
        cells,
        cell_data={"gmsh:physical": physical, "gmsh:geometrical": physical},
        field_data=m.field_data,
    )
    meshio.write(target, shuffled, file_format="gmsh22", binary=False)


def test_a_mesh_file_in_another_order_gives_the_same_solution(tmp_path: Path) -> None:
    builtin = make_solver("plate-hole", SMALL)
    write_gmsh(builtin.fe_space, tmp_path / "plate.msh")
    _shuffled_msh(tmp_path / "plate.msh", tmp_path / "shuffled.msh")
    data = builtin.description.to_dict()
    data["mesh"] = {"file": str(tmp_path / "shuffled.msh"), "degree": 2}
    case = CaseSolver(data)
    order = builtin.fe_space.mesh.node_order(case.fe_space.mesh)
    assert order is not None  # another numbering ...
    u, ref = case.solve(MU)["u"][:, order], builtin.solve(MU)["u"]
    assert np.abs(u - ref).max() <= 1e-7 * np.abs(ref).max()  # ... the same solution


def test_an_abaqus_file_with_node_sets_gives_the_boundaries(tmp_path: Path) -> None:
    builtin = make_solver("plate-hole", SMALL)
    write_gmsh(builtin.fe_space, tmp_path / "plate.msh")
    m = meshio.read(tmp_path / "plate.msh")
    sets = {}
    for b, block in enumerate(m.cells):
        if block.type == "line3":
            tags = m.cell_data["gmsh:physical"][b]
            for name, (tag, _) in m.field_data.items():
                if np.any(tags == tag):
                    sets[name] = np.unique(block.data[tags == tag])
    triangles = next(b.data for b in m.cells if b.type == "triangle6")
    meshio.write(tmp_path / "plate.inp", meshio.Mesh(m.points, [("triangle6", triangles)],
                                                     point_sets=sets))  # fmt: skip
    data = builtin.description.to_dict()
    data["mesh"] = {"file": str(tmp_path / "plate.inp"), "degree": 2}
    case = CaseSolver(data)
    for name, facets in builtin.fe_space.boundaries.items():
        assert np.array_equal(np.sort(case.fe_space.boundaries[name]), np.sort(facets)), name


def test_geometric_selectors_name_boundaries(tmp_path: Path) -> None:
    data = make_solver("plate-hole", SMALL).description.to_dict()
    data["mesh"]["boundaries"] = {"symmetry_x": {"x": 0.0}, "rim": {"circle": [0, 0, 10.0]}}
    case = CaseSolver(data)
    builtin = make_solver("plate-hole", SMALL).fe_space.boundaries
    assert np.array_equal(np.sort(case.fe_space.boundaries["symmetry_x"]), np.sort(builtin["left"]))
    assert np.array_equal(np.sort(case.fe_space.boundaries["rim"]), np.sort(builtin["hole"]))


def test_load_scales_may_be_several_and_on_imposed_displacements() -> None:
    """Two independent load scales and a scaled imposed displacement."""
    data = make_solver("plate-hole", SMALL).description.to_dict()
    data["loads"].append(
        {"kind": "traction", "boundary": "right", "value": [1.0, 0.0], "scale": "side",
         "amplitude": {"kind": "ramp", "duration": 20.0}}
    )  # fmt: skip
    data["loads"][1] = {"kind": "displacement", "boundary": "left", "components": [0],
                        "value": [1.0], "scale": "shift"}  # fmt: skip
    data["scales"] = {"load": 110.0, "side": 0.0, "shift": 0.0}
    data["parameters"].append({"name": "side", "low": 0.0, "high": 30.0})
    case = CaseSolver(data)
    assert case.space.scalar_names == ["load", "R0", "C", "side"]
    history = case.history({"load": 100.0, "side": 20.0, "shift": 0.01}).to_dict()
    values = [t["load"]["value"] for t in history["terms"]]
    assert values[0] == [0.0, 100.0] and values[1] == [0.01] and values[3] == [20.0, 0.0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["law"].pop("E"), "law] viscoplasticity needs the nominal value of E"),
        (lambda d: d["law"].update(name="hypo"), "law.name must be one of"),
        (lambda d: d["parameters"].append({"name": "foo", "low": 0, "high": 1}),
         "parameter 'foo' is neither a parameter of the viscoplasticity law"),
        (lambda d: d["parameters"].append({"name": "nu", "low": 0.2, "high": 0.6}),
         "parameter 'nu': viscoplasticity: nu must be in"),
        (
            lambda d: d["loads"].append(
                {"kind": "pressure", "boundary": "hole", "value": 1.0, "scale": "pull"}
            ),
            "load scale(s) ['pull'] have no value",
        ),
        (lambda d: d["loads"][0].update(kind="gravity"), "loads[0].kind must be one of"),
        (lambda d: d.update(times={"stop": 1.0}), "[times] needs stop and steps"),
        (lambda d: d["mesh"].update(generator="sphere"), "mesh.generator must be one of"),
        (lambda d: d.update(extra=1), "unknown key(s) ['extra']"),
    ],
)  # fmt: skip
def test_a_bad_case_file_is_one_line_naming_the_entry(tmp_path: Path, change, words) -> None:
    data = make_solver("plate-hole", SMALL).description.to_dict()
    change(data)
    path = tmp_path / "bad.toml"
    path.write_text(_toml(data))
    with pytest.raises(ParameterError) as excinfo:
        resolve_solver(str(path))
    message = str(excinfo.value)
    assert words in message and str(path) in message and "\n" not in message


def _toml(data: dict) -> str:
    from nirom.cases.description import _toml as write

    return write(data)


def test_a_mesh_file_that_does_not_fit_is_one_line(tmp_path: Path) -> None:
    data = make_solver("plate-hole", SMALL).description.to_dict()
    data["mesh"] = {"file": str(tmp_path / "missing.msh"), "degree": 2}
    with pytest.raises(MeshError, match="missing.msh not found"):
        CaseSolver(data)
    builtin = make_solver("plate-hole", SMALL)
    write_gmsh(builtin.fe_space, tmp_path / "plate.msh")
    data["mesh"] = {"file": str(tmp_path / "plate.msh"), "degree": 1}
    with pytest.raises(MeshError, match="quadratic triangle6 cells; set mesh.degree = 2"):
        CaseSolver(data)
    data["mesh"] = {"file": str(tmp_path / "plate.msh"), "degree": 2,
                    "boundaries": {"top": "roof"}}  # fmt: skip
    with pytest.raises(MeshError, match="the mesh file has no set 'roof'; its sets: bottom"):
        CaseSolver(data)
    recorded = CaseSolver({**data, "mesh": {"file": str(tmp_path / "plate.msh"), "degree": 2}})
    (tmp_path / "plate.msh").write_text((tmp_path / "plate.msh").read_text() + "\n")
    with pytest.raises(MeshError, match="changed since the case was recorded"):
        resolve_solver("mechanics", recorded.options)


def test_a_toml_that_is_neither_a_case_nor_a_command_is_refused(tmp_path: Path) -> None:
    from nirom.solvers import SolverError

    path = tmp_path / "x.toml"
    path.write_text('name = "x"\n')
    with pytest.raises(SolverError, match="neither a mechanics case"):
        resolve_solver(str(path))


def test_generation_from_a_case_file_records_it_for_the_hrom(tmp_path: Path) -> None:
    """The dataset's provenance holds the whole case, so a fit needs no --case."""
    path = tmp_path / "plate.toml"
    path.write_text(make_solver("plate-hole", SMALL).description.to_toml())
    ds = generate(path, tmp_path / "p.nirom", 1, workers=0, console=Console(quiet=True)).dataset
    recipe = Dataset(ds.path).provenance["generation"]["solver"]
    again = resolve_solver(recipe["name"], recipe["options"])
    assert again.description.to_dict() == CaseDescription.from_toml(path).to_dict() | {
        "mesh": again.description.to_dict()["mesh"]
    }
