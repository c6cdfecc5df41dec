"""A trained CLIP pair on disk: `clip_config.json` plus one weights file per encoder.

`train-clip` writes it; `train` reads the image encoder back (`train.init_image_encoder`), so a
ClipCap can start from (or stay frozen at) a contrastively trained encoder.
"""

import json
from pathlib import Path

from custom_architectures.clip import CLIPTextEncoder, build_image_encoder, image_encoder_config

CONFIG_FILE = "clip_config.json"
IMAGE_WEIGHTS = "image_encoder.weights.h5"
TEXT_WEIGHTS = "text_encoder.weights.h5"


def save_clip(clip, directory, extra=None):
    """Writes the image and text encoders of a `ContrastiveCLIP` to `directory`; returns it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "image_encoder": image_encoder_config(clip.image_encoder),
        "text_encoder": clip.text_encoder.get_config(),
        "logit_scale": float(clip.logit_scale),
        **(extra or {}),
    }
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
    clip.image_encoder.save_weights(directory / IMAGE_WEIGHTS)
    clip.text_encoder.save_weights(directory / TEXT_WEIGHTS)
    return directory


def read_clip_config(directory):
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not a train-clip output folder (no {CONFIG_FILE}); run `image-captioning train-clip` first.")
    return json.loads(path.read_text())


def load_image_encoder(directory):
    """The trained image encoder saved in `directory`.

    Example:
    ```python
    encoder = load_image_encoder("runs/shapes-clip/clip")
    ```
    """
    encoder = build_image_encoder(read_clip_config(directory)["image_encoder"])
    encoder.load_weights(Path(directory) / IMAGE_WEIGHTS)
    return encoder


def load_text_encoder(directory):
    encoder = CLIPTextEncoder(**read_clip_config(directory)["text_encoder"])
    encoder.load_weights(Path(directory) / TEXT_WEIGHTS)
    return encoder
