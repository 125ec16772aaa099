"""Every notebook in notebooks/ runs top to bottom without an error, in a kernel on this interpreter."""

import json
import sys
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_here(tmp_path_factory):
    """A `python3` kernelspec that starts this very interpreter (the venv running the tests), found first on
    JUPYTER_PATH: a spec installed elsewhere may say just `python`, which could be another Python."""
    pytest.importorskip("ipykernel")
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)", "language": "python"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(root))
    mp.setenv("MPLBACKEND", "Agg")
    scratch = root / "tmp"  # the kernel's temporary folder: what a notebook leaves there goes with pytest's
    scratch.mkdir()
    mp.setenv("TMPDIR", str(scratch))
    yield "python3"
    mp.undo()


def run_notebook(path: Path, kernel: str, timeout_s: int = 600):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=kernel, timeout=timeout_s,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_here):
    nb = run_notebook(path, kernel_here)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_a_failing_notebook_fails(tmp_path, kernel_here):
    """The runner really reports errors (and runs on this interpreter)."""
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)"),
                             new_code_cell("raise ValueError('boom')")])
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(CellExecutionError, match="boom"):
        run_notebook(path, kernel_here)
    ok = run_notebook(_first_cell_only(path), kernel_here)
    assert ok.cells[0].outputs[0]["text"].strip() == sys.executable


def _first_cell_only(path: Path) -> Path:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells = nb.cells[:1]
    out = path.with_name("first.ipynb")
    nbformat.write(nb, out)
    return out
