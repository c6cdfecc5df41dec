"""notebooks/image_captioning.ipynb executes top to bottom without errors and shows its key outputs.

The kernel is this interpreter (`sys.executable`), through a kernelspec written into a temporary
Jupyter data folder: nothing is installed into the user's Jupyter config, and it does not depend
on which `python` a `python3` kernelspec would find on PATH.
"""

import json
import sys
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in; a test extra)
import nbclient
import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = PROJECT_ROOT / "notebooks" / "image_captioning.ipynb"
KERNEL_NAME = "image-captioning-test"
TIMEOUT_S = 600  # per cell; the whole notebook takes about a minute on 2 CPU cores


def _kernel_environment(tmp_path, monkeypatch):
    """A kernelspec for sys.executable, and private Jupyter/IPython folders, in tmp_path."""
    data_dir = tmp_path / "jupyter-data"
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "image_captioning test kernel",
        "language": "python",
        "env": {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(PROJECT_ROOT)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(data_dir))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")


def _text_outputs(cell):
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif "data" in output:
            texts.append(output["data"].get("text/plain", ""))
    return "".join(texts)


def test_notebook_executes_and_shows_captions_and_subtitles(tmp_path, monkeypatch, shared_data):
    _kernel_environment(tmp_path, monkeypatch)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit the notebook with its outputs cleared"
    )
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # cwd = notebooks/, as in Jupyter
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for cell in code_cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    outputs = [_text_outputs(cell) for cell in code_cells]
    everything = "\n".join(outputs)

    # Section 2: every shared photo got a caption line.
    photos = sorted(path.name for path in (shared_data / "images").iterdir())
    assert all(name in everything for name in photos)
    # Section 3: the SRT file is printed, with numbered cues and timings.
    srt = next(text for text in outputs if "-->" in text and "whole-video caption" in text)
    assert "1\n00:00:00,000 --> " in srt
    # Sections 4-7: strategies, frame sampling modes, written formats, pipeline stats.
    for expected in ("beam search, 3 beams", "sampling, top_p=0.9", "uniform ", "interval ", "scenes ",
                     "tree.srt", "tree.vtt", "tree.json", "captions.jsonl", "index.html", "WEBVTT",
                     "bottleneck:", "busy", "frames/s"):
        assert expected in everything, expected
    assert any("image/jpeg" in o.get("data", {}) for cell in code_cells for o in cell.get("outputs", []))


def test_notebook_uses_only_the_public_api():
    """A user's walkthrough never reaches into the test folder or private names."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "unitest" not in code
    imports = [line.split() for line in code.splitlines() if line.startswith(("from image_captioning", "import image_captioning"))]
    assert imports, "the notebook should use the package"
    for words in imports:
        names = " ".join(words[3:]) if words[0] == "from" else ""
        assert not any(part.startswith("_") for part in words[1].split(".")), words
        assert not any(name.strip(", ").startswith("_") for name in names.split()), words
