"""Training presets (JSON files in hparams/) and command-line overrides such as `train.epochs=3`."""

import copy
import json

from image_captioning.hub import HPARAMS_DIR

TRAINING_PRESETS = {
    "shapes-demo": "shapes-demo.json",
    "shapes-clip": "shapes-clip.json",
    "shapes-demo-finetune": "shapes-demo-finetune.json",
    "shapes-video-demo": "shapes-video-demo.json",
    "coco-mlp": "train-coco-mlp.json",
    "coco-transformer": "train-coco-transformer.json",
    "lstm-baseline-shapes": "lstm-baseline-shapes.json",
    "lstm-baseline-shapes-video": "lstm-baseline-shapes-video.json",
}

# --tiny: the same code path in seconds (smoke test); the tokenizer stays the real GPT-2 one. It starts
# from a fresh image encoder rather than the preset's train-clip run, which a smoke test does not have,
# and trains on the paraphrases: with one canonical caption per image, 48 images are too few steps.
TINY_OVERRIDES = {
    "train.init_image_encoder": None,
    "data.captions": "paraphrases",
    "data.num_images": 48,
    "model.decoder.num_layers": 1,
    "model.decoder.hidden_dim": 32,
    "model.decoder.num_heads": 2,
    "model.decoder.intermediate_dim": 64,
    "train.epochs": 2,
    "train.batch_size": 8,
    "train.warmup_steps": 2,
    "train.max_caption_length": 16,
}
# --tiny for the "lstm_baseline" family: ResNet-50 has no width setting, so only its input shrinks.
TINY_LSTM_OVERRIDES = {
    "model.image_encoder.input_resolution": 32,
    "model.image_encoder.weights": None,
    "model.decoder.hidden_dim": 16,
    "model.decoder.embedding_dim": 16,
    "train.epochs": 2,
    "train.batch_size": 8,
    "train.warmup_steps": 2,
    "train.max_caption_length": 16,
    "train.jit_compile": False,  # XLA compiles ResNet-50 for longer than a tiny run trains
    "train.train_image_encoder": False,  # cached features: tracing ResNet-50's backward pass alone takes minutes
}
TINY_DATA_OVERRIDES = {"images": {"data.num_images": 48}, "videos": {"data.num_videos": 40}}


def tiny_overrides(config):
    """--tiny's overrides for a preset: its model family's tiny sizes and a few media of its kind."""
    if config["model"].get("type", "clipcap") != "lstm_baseline":
        return dict(TINY_OVERRIDES)
    return {**TINY_LSTM_OVERRIDES, **TINY_DATA_OVERRIDES[config["data"].get("media", "images")]}


def load_training_preset(name_or_path):
    path = HPARAMS_DIR / TRAINING_PRESETS[name_or_path] if name_or_path in TRAINING_PRESETS else name_or_path
    try:
        with open(path) as file:
            return json.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"No training preset {name_or_path!r}: use one of {', '.join(sorted(TRAINING_PRESETS))} or a JSON file path."
        ) from None


def parse_override(text):
    """'train.epochs=3' -> ('train.epochs', 3); values are JSON when they parse, else strings."""
    if "=" not in text:
        raise ValueError(f"Override {text!r} must look like section.key=value, e.g. train.epochs=3")
    key, value = text.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def apply_overrides(config, overrides):
    """Returns a copy of `config` with dotted keys set; an unknown section is an error, a new leaf key is allowed."""
    config = copy.deepcopy(config)
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = config
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise KeyError(f"Override {dotted!r}: the preset has no section {part!r}.")
            node = node[part]
        node[leaf] = value
    return config
