"""The model families a training preset can build: its `model` section's "type" picks one.

"clipcap" (the default when "type" is absent): CLIP -> mapper -> GPT-2 (`build_clipcap_model`).
"lstm_baseline": the ResNet-50 + LSTM baseline (`build_lstm_captioner`), fed the same
CLIP-normalised pixels, optionally starting from ImageNet weights.
"""

import keras

from custom_architectures.clipcap import build_clipcap_model
from custom_architectures.lstm_captioner import build_lstm_captioner
from image_captioning.media.clip_preprocessing import CLIP_MEAN, CLIP_STD

IMAGENET_NOTOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


def build_lstm_baseline(config):
    """config: {"image_encoder": {"input_resolution", "weights": None | "imagenet" | a local file},
    "decoder": {...LSTMDecoder args}}. "weights" None starts from random weights; "imagenet" downloads
    Keras' ResNet-50 ImageNet weights; a path reads that file (Keras' `IMAGENET_NOTOP_FILE`)."""
    encoder_config = dict(config.get("image_encoder", {}))
    weights = encoder_config.pop("weights", None)
    encoder_config.setdefault("input_mean", CLIP_MEAN)  # what the pipeline's preprocessing feeds every model
    encoder_config.setdefault("input_std", CLIP_STD)
    model = build_lstm_captioner({**config, "image_encoder": encoder_config})
    if weights:
        load_imagenet_weights(model.image_encoder, weights)
    return model


def load_imagenet_weights(encoder, weights):
    """Copies ResNet-50 ImageNet weights ("imagenet": Keras downloads them; else a local file) into `encoder`."""
    resolution = encoder.input_resolution
    try:
        reference = keras.applications.ResNet50(include_top=False, weights=weights, pooling="avg",
                                                input_shape=(resolution, resolution, 3))
    except Exception as error:  # a failed download or an unreadable file: say how to get the weights
        raise ValueError(
            f"Could not load ResNet-50 weights {weights!r} ({error}). Offline, pass a local copy of Keras' "
            f"{IMAGENET_NOTOP_FILE} with --set model.image_encoder.weights=/path/to/{IMAGENET_NOTOP_FILE}, "
            "or null to start from random weights."
        ) from error
    encoder.backbone.set_weights(reference.get_weights())


MODEL_FAMILIES = {"clipcap": build_clipcap_model, "lstm_baseline": build_lstm_baseline}


def build_model(model_config):
    """Builds the model a preset's `model` section describes; "type" names the family ("clipcap" if absent)."""
    config = dict(model_config)
    family = config.pop("type", "clipcap")
    if family not in MODEL_FAMILIES:
        raise ValueError(f"Unknown model type {family!r} in the preset's model section; use one of {', '.join(MODEL_FAMILIES)}.")
    return MODEL_FAMILIES[family](config)
