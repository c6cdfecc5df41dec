"""Builds the project's wheel from a clean copy of the repository and installs it into a fresh virtual environment.

Reinstalling TensorFlow would take minutes, so the fresh environment borrows the dependencies through a `.pth`
line naming this interpreter's site-packages. Python does not process `.pth` files inside a folder added that way,
so the project's editable install there stays invisible: `image_captioning` can only come from the wheel.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def copy_repository(target):
    """Tracked and untracked-but-not-ignored files, as a fresh clone with local edits would have them."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                             check=True, capture_output=True).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():  # files deleted in the work tree are still listed by --cached
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args], check=True)


def build_wheel(source, dist):
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(source))
    (wheel,) = dist.glob("image_captioning-*.whl")
    return wheel


def build_editable_wheel(source, dist):
    """What `pip install -e` builds (PEP 660), built by this interpreter: the fresh venv has no setuptools."""
    hook = f"import setuptools.build_meta as backend; print(backend.build_editable({str(dist)!r}))"
    name = subprocess.run([sys.executable, "-c", hook], cwd=source, check=True, capture_output=True, text=True).stdout
    return dist / name.strip().splitlines()[-1]


def fresh_venv(folder, wheel):
    """A new venv with `wheel` installed (no dependencies), then the dependencies borrowed from this interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip()
    # Written after the install, so pip never sees (nor tries to replace) the project's own editable install.
    (Path(site_packages) / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def clean_env(home):
    """The environment of a user who never configured this project, with `home` as their home folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IMAGE_CAPTIONING_HOME", "XDG_CACHE_HOME")}
    return {**env, "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
