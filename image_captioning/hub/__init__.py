"""Model names and presets, the model cache, official-file downloads, and `hf://` models on the Hugging Face Hub.

`hf_hub` (and `huggingface_hub` with it) is imported only when a Hub model is loaded or pushed.
"""

from image_captioning.hub.downloads import DownloadError, cached_download, sha256_of
from image_captioning.hub.paths import HPARAMS_DIR, PROJECT_ROOT, RUNNING_FROM_SOURCE, SHIPPED_MODELS_DIR, cache_dir
from image_captioning.hub.registry import (
    CLIP_GPT_CAPTIONING,
    HF_PREFIX,
    OFFICIAL_FILES_SUBDIR,
    PRETRAINED_MODELS,
    fetch_official_file,
    load_hparams,
    local_model_dir,
)

# The cache folder as resolved at import; call `cache_dir()` to follow later changes of $IMAGE_CAPTIONING_HOME.
PRETRAINED_DIR = cache_dir()

__all__ = [
    "CLIP_GPT_CAPTIONING",
    "DownloadError",
    "HF_PREFIX",
    "HPARAMS_DIR",
    "OFFICIAL_FILES_SUBDIR",
    "PRETRAINED_DIR",
    "PRETRAINED_MODELS",
    "PROJECT_ROOT",
    "RUNNING_FROM_SOURCE",
    "SHIPPED_MODELS_DIR",
    "cache_dir",
    "cached_download",
    "fetch_official_file",
    "load_hparams",
    "local_model_dir",
    "sha256_of",
]
