"""Known model names, their hparams presets, where their official files live, and where their folders are."""

import json
from pathlib import Path

from image_captioning.hub.downloads import cached_download
from image_captioning.hub.paths import HPARAMS_DIR, SHIPPED_MODELS_DIR

OFFICIAL_FILES_SUBDIR = "official"
MODEL_CONFIG_FILE = "config.json"
# The checkpoint format ("format" of an hparams file) and generation preset of jmisilo/clip-gpt-captioning.
CLIP_GPT_CAPTIONING = "clip-gpt-captioning"
HF_PREFIX = "hf://"  # hf://owner/repo[@revision]: a model folder in a Hugging Face Hub repository (see hf_hub.py)

PRETRAINED_MODELS = {
    "clipcap-coco": "clipcap-coco.json",
    "clipcap-conceptual": "clipcap-conceptual.json",
    "clipcap-coco-transformer": "clipcap-coco-transformer.json",
    "clip-gpt-captioning-s": "clip-gpt-captioning-s.json",  # jmisilo/clip-gpt-captioning checkpoints
    "clip-gpt-captioning-l": "clip-gpt-captioning-l.json",
    "shapes-demo": "shapes-demo.json",  # trained by this project, shipped in pretrained_models/ and in the wheel
    "shapes-video-demo": "shapes-video-demo.json",  # the same, a temporal ClipCap for videos
}


def load_hparams(name):
    if name not in PRETRAINED_MODELS:
        raise KeyError(
            f"Unknown model name {name!r}. Known names: {', '.join(sorted(PRETRAINED_MODELS))}; "
            "or pass a folder written by save_pretrained, or hf://owner/repo."
        )
    return json.loads((HPARAMS_DIR / PRETRAINED_MODELS[name]).read_text())


def local_model_dir(name, cache_dir):
    """The folder of a known name already on disk: converted into `cache_dir`, else shipped; None if neither."""
    for folder in (Path(cache_dir) / name, SHIPPED_MODELS_DIR / name):
        if (folder / MODEL_CONFIG_FILE).is_file():
            return folder
    return None


def fetch_official_file(entry, cache_dir, local_path=None):
    """The local official file for one hparams entry: `local_path` if given, else download into the cache."""
    if local_path is not None:
        local_path = Path(local_path)
        if not local_path.is_file():
            raise FileNotFoundError(f"{local_path} does not exist: pass the path of the downloaded {entry['filename']}.")
        return local_path
    return cached_download(entry["url"], Path(cache_dir) / OFFICIAL_FILES_SUBDIR, entry["filename"], entry.get("sha256"))
