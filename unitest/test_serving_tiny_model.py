"""The tiny model the export and serving tests share: random, and still telling real images apart."""

import threading

import keras
import numpy as np

from custom_architectures.clipcap import build_clipcap_model
from image_captioning import ClipCap
from image_captioning.serving.engine import CaptionEngine

TINY_MODEL = {
    "image_encoder": {"type": "vit", "input_resolution": 32, "patch_size": 16, "hidden_dim": 64, "num_layers": 1, "num_heads": 1, "output_dim": 16},
    "mapper": {"type": "mlp", "prefix_length": 2},
    "decoder": {"vocabulary_size": 50257, "num_layers": 1, "num_heads": 1, "hidden_dim": 16, "intermediate_dim": 32, "max_sequence_length": 32, "dropout": 0.0},
}
GENERATION = {"strategy": "greedy", "max_length": 6, "stop_tokens": ["."]}


def build_tiny_captioner(directory, generation=GENERATION, seed=0):
    """Saves and reloads a tiny ClipCap whose captions depend on the image.

    CLIP's class and position embeddings and its projection start at zero (they are meant to be
    loaded), which would make every embedding zero and every caption the same; they, and the
    mapper, get large random values so that different photos give different captions.
    """
    keras.utils.set_random_seed(seed)  # module-scoped fixtures run before conftest's per-test seeding
    model = build_clipcap_model(TINY_MODEL)
    rng = np.random.default_rng(seed)
    for weight in model.image_encoder.weights + model.mapper.weights:
        name = weight.path.rsplit("/", 1)[-1]
        if name in ("class_embedding", "positional_embedding", "proj") or (name == "kernel" and "mapper" in weight.path):
            weight.assign(rng.normal(0.0, 2.0, weight.shape).astype("float32"))
    ClipCap(model, dict(generation)).save_pretrained(directory)
    return ClipCap.from_pretrained(directory)


def test_tiny_captioner_tells_images_apart(tmp_path, shared_data):
    captioner = build_tiny_captioner(tmp_path / "tiny")
    images = sorted((shared_data / "images").iterdir())
    results = captioner.predict([str(path) for path in images])
    assert all(result.ok for result in results)
    assert len({result.caption.text for result in results}) >= 4


class GatedEngine(CaptionEngine):
    """A real `CaptionEngine` whose model calls wait at `gate` (open unless a test closes it).

    Lets a test line requests up behind a busy model and then count how they were batched; the
    model still runs every batch.
    """

    def __init__(self, captioner, **options):
        super().__init__(captioner, **options)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def caption_batch(self, pixels):
        self.entered.set()
        self.gate.wait()
        return super().caption_batch(pixels)


def metric_value(metrics_text, name, **labels):
    """The value of one sample in Prometheus text exposition (0.0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    sample = f"{name}{{{wanted}}}" if labels else name
    for line in metrics_text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
