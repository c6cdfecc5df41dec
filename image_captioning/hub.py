"""Known model names, where their official files live, and the local cache of converted models."""

import json
from pathlib import Path

from image_captioning.downloads import cached_download

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HPARAMS_DIR = PROJECT_ROOT / "hparams"
PRETRAINED_DIR = PROJECT_ROOT / "pretrained_models"
OFFICIAL_FILES_SUBDIR = "official"

PRETRAINED_MODELS = {
    "clipcap-coco": "clipcap-coco.json",
    "clipcap-conceptual": "clipcap-conceptual.json",
    "clipcap-coco-transformer": "clipcap-coco-transformer.json",
    "shapes-demo": "shapes-demo.json",  # trained by this project, shipped in pretrained_models/
}


def load_hparams(name):
    if name not in PRETRAINED_MODELS:
        raise KeyError(
            f"Unknown model name {name!r}. Known names: {', '.join(sorted(PRETRAINED_MODELS))}; "
            "or pass a folder written by save_pretrained."
        )
    return json.loads((HPARAMS_DIR / PRETRAINED_MODELS[name]).read_text())


def fetch_official_file(entry, cache_dir, local_path=None):
    """The local official file for one hparams entry: `local_path` if given, else download into the cache."""
    if local_path is not None:
        local_path = Path(local_path)
        if not local_path.is_file():
            raise FileNotFoundError(f"{local_path} does not exist: pass the path of the downloaded {entry['filename']}.")
        return local_path
    return cached_download(entry["url"], Path(cache_dir) / OFFICIAL_FILES_SUBDIR, entry["filename"], entry.get("sha256"))
