"""`CaptionEngine`: the model side of the server (prepare one upload, caption a batch, caption a video)."""

from __future__ import annotations

import threading

import numpy as np

from image_captioning.generation.config import GenerationConfig
from image_captioning.media.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SHORT_SIDE
from image_captioning.serving.image_uploads import decode_image_bytes


class CaptionEngine:
    """Wraps a `ClipCap` for serving, with decoding options fixed at start-up.

    Uploads are decoded and CLIP-preprocessed exactly as `ClipCap.predict` does (PIL decoding,
    then `clip_preprocess_tf`), in the request's own thread; `caption_batch` then runs CLIP, the
    mapper and decoding on many uploads at once. One lock serialises model calls, so a video job
    and an image batch never compete for the same cores.

    Args:
        captioner: a `ClipCap`.
        generation: decoding options for every request (strategy, num_beams, max_length, ...);
            the model's defaults fill the rest.
        max_pixels: uploads with more pixels are refused before decoding.
        max_short_side: larger images are reduced first, as `predict` does.

    Example:
    ```python
    engine = CaptionEngine(ClipCap.from_pretrained("clipcap-coco"), {"strategy": "beam"})
    pixels = engine.prepare(open("cat.jpg", "rb").read(), "cat.jpg")
    print(engine.caption_batch([pixels])[0][0].text)
    ```
    """

    def __init__(self, captioner, generation: dict | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                 max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE):
        import tensorflow as tf

        from image_captioning.media.clip_preprocessing import clip_preprocess_tf

        self.captioner = captioner
        self.options = captioner.generation_options(**(generation or {}))
        self.config = GenerationConfig(**self.options)  # a bad option fails at start-up, not per request
        self.max_pixels = max_pixels
        self.max_short_side = max_short_side
        self.lock = threading.Lock()
        resolution = captioner.resolution
        self._preprocess = tf.function(
            lambda image: clip_preprocess_tf(image, resolution),
            input_signature=[tf.TensorSpec((None, None, 3), tf.uint8)],
        )

    @property
    def resolution(self) -> int:
        return self.captioner.resolution

    def prepare(self, data: bytes, name: str) -> np.ndarray:
        """Encoded image bytes -> CLIP input (R, R, 3) float32; raises `RequestError` naming `name`."""
        rgb = decode_image_bytes(data, name, self.max_pixels, self.max_short_side)
        return self._preprocess(rgb).numpy()

    def caption_batch(self, pixels: list) -> list:
        """CLIP inputs -> per input, its captions (best first)."""
        with self.lock:
            embeddings = self.captioner.encode_images(np.stack(pixels))
            return self.captioner.caption_embeddings(embeddings, **self.options)

    def caption_video(self, path, sampling):
        """A `VideoResult` for the video file at `path` (its `error` set when it has no frames)."""
        with self.lock:
            return self.captioner.predict([str(path)], sampling=sampling, **self.options)[0]

    def warm_up(self, max_batch_size: int = 1) -> None:
        """Traces the preprocessing and every batch bucket up to `max_batch_size`, so that no request
        waits for a compilation."""
        blank = self._preprocess(np.full((self.resolution, self.resolution, 3), 255, np.uint8)).numpy()
        buckets = [b for b in self.captioner.generator.batch_buckets if b <= max_batch_size] or [1]
        for bucket in buckets:
            self.caption_batch([blank] * bucket)
