"""Where the presets, the shipped models and the model cache are, in a checkout and in an installed wheel.

A wheel carries `hparams/` as `image_captioning/hub/presets/` and `pretrained_models/shapes-demo/` as
`image_captioning/hub/shipped_models/shapes-demo/` (see `setup.py`). Running from the repository (checkout or
editable install) those packaged folders do not exist, and the top-level `hparams/` and `pretrained_models/` are used.
"""

import os
from importlib.resources import files
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "IMAGE_CAPTIONING_HOME"

_PACKAGED_PRESETS = files(__package__) / "presets"
RUNNING_FROM_SOURCE = not _PACKAGED_PRESETS.is_dir()

if RUNNING_FROM_SOURCE:
    HPARAMS_DIR = PROJECT_ROOT / "hparams"
    SHIPPED_MODELS_DIR = PROJECT_ROOT / "pretrained_models"
else:
    HPARAMS_DIR = Path(str(_PACKAGED_PRESETS))
    SHIPPED_MODELS_DIR = Path(str(files(__package__) / "shipped_models"))


def cache_dir():
    """Where downloaded official files and converted models go: `$IMAGE_CAPTIONING_HOME` if set, else
    `pretrained_models/` in a checkout, else `$XDG_CACHE_HOME/image_captioning` (default `~/.cache/image_captioning`),
    since an installed package's own folder is often read-only."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if RUNNING_FROM_SOURCE:
        return PROJECT_ROOT / "pretrained_models"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "image_captioning"
