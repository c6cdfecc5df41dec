"""`ClipCap`: the captioning model with its tokenizer and defaults; save_pretrained / from_pretrained."""

import json
from pathlib import Path

import keras

from custom_architectures.clipcap import ClipCapModel
from image_captioning import hub
from image_captioning.tokenizer import GPT2_ASSETS, load_tokenizer, save_tokenizer_files

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
FORMAT_VERSION = 1
DEFAULT_GENERATION = {"strategy": "beam", "num_beams": 5, "max_length": 67, "stop_tokens": ["."]}


class ClipCap:
    """CLIP -> mapper -> GPT-2 captioner, as loaded from a model folder or a known name.

    Args:
        model: a `ClipCapModel`.
        generation: default decoding options (strategy, num_beams, max_length, stop_tokens, ...).
        tokenizer_dir: folder with the GPT-2 `vocab.json` and `merges.txt`.

    Example:
    ```python
    captioner = ClipCap.from_pretrained("clipcap-coco")      # or a folder
    captioner.save_pretrained("pretrained_models/my-copy")   # from_pretrained's exact inverse
    ```
    """

    def __init__(self, model, generation=None, tokenizer_dir=GPT2_ASSETS):
        self.model = model
        self.generation = {**DEFAULT_GENERATION, **(generation or {})}
        self.tokenizer_dir = Path(tokenizer_dir)
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.tokenizer_dir)
        return self._tokenizer

    @property
    def resolution(self):
        return self.model.image_encoder.input_resolution

    def save_pretrained(self, directory):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "format_version": FORMAT_VERSION,
            "model": keras.saving.serialize_keras_object(self.model),
            "generation": self.generation,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        self.model.save_weights(directory / WEIGHTS_FILE)
        save_tokenizer_files(directory, self.tokenizer_dir)
        return directory

    @classmethod
    def from_pretrained(cls, name_or_dir, cache_dir=hub.PRETRAINED_DIR, clipcap_checkpoint=None, clip_checkpoint=None):
        """Loads a saved folder, or a known name (converted once from the official files, then cached).

        Args:
            name_or_dir: a folder written by `save_pretrained`, or a name in `hub.PRETRAINED_MODELS`.
            cache_dir: where named models are converted to and official files downloaded to.
            clipcap_checkpoint, clip_checkpoint: local official files to use instead of downloading.
        """
        directory = Path(name_or_dir)
        if (directory / CONFIG_FILE).is_file():
            return cls.load_directory(directory)
        if str(name_or_dir) not in hub.PRETRAINED_MODELS:
            raise FileNotFoundError(
                f"{name_or_dir} is neither a model folder (no {CONFIG_FILE}) nor a known name "
                f"({', '.join(sorted(hub.PRETRAINED_MODELS))})."
            )
        cached = Path(cache_dir) / str(name_or_dir)
        if (cached / CONFIG_FILE).is_file():
            return cls.load_directory(cached)
        return convert_named_model(hub.load_hparams(str(name_or_dir)), cache_dir, clipcap_checkpoint, clip_checkpoint)

    @classmethod
    def load_directory(cls, directory):
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        if config.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{directory / CONFIG_FILE} has format_version {config.get('format_version')}, expected {FORMAT_VERSION}.")
        model = keras.saving.deserialize_keras_object(config["model"])
        model.load_weights(directory / WEIGHTS_FILE)
        return cls(model, config["generation"], tokenizer_dir=directory)


def convert_named_model(hparams, cache_dir, clipcap_checkpoint=None, clip_checkpoint=None):
    """Fetches (or takes locally) the official files named in `hparams`, converts, caches, returns ClipCap."""
    from image_captioning.convert import convert_official_clipcap

    clipcap_file = hub.fetch_official_file(hparams["clipcap_checkpoint"], cache_dir, clipcap_checkpoint)
    clip_file = hub.fetch_official_file(hparams["clip_checkpoint"], cache_dir, clip_checkpoint)
    captioner = convert_official_clipcap(
        clipcap_file, clip_file, normalize_prefix=hparams["normalize_prefix"], generation=hparams["generation"]
    )
    captioner.save_pretrained(Path(cache_dir) / hparams["name"])
    return captioner


__all__ = ["ClipCap", "ClipCapModel"]
