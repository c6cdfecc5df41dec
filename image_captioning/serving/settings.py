"""`ServerSettings`: every limit and knob of the captioning server, checked once."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """How the captioning server batches, limits and names things.

    Args:
        model_name: the model's name in Open Inference Protocol URLs (`/v2/models/{name}`).
        max_batch_size: most images per model call; 1 turns dynamic batching off.
        max_wait_ms: how long a batch may wait to fill once it has one image.
        max_queue: most images waiting for a batch; beyond it requests get 503 + Retry-After.
        retry_after_s: the Retry-After value sent with 503.
        max_body_bytes: largest request body (an upload, a JSON document); larger gets 413.
        max_images_per_request: most images in one request.
        max_pixels: largest image, in pixels, decoded (decompression-bomb guard).
        media_root: a folder whose files clients may name by relative path (None: no paths).
        upload_dir: where uploaded videos are written while they are captioned (None: a fresh
            temporary folder, removed at shutdown).

    Example:
    ```python
    settings = ServerSettings(max_batch_size=16, max_wait_ms=10, max_body_bytes=50 << 20)
    ```
    """

    model_name: str = "clipcap"
    max_batch_size: int = 32
    max_wait_ms: float = 5.0
    max_queue: int = 256
    retry_after_s: int = 1
    max_body_bytes: int = 64 << 20
    max_images_per_request: int = 64
    max_pixels: int = 89_478_485
    media_root: Path | None = None
    upload_dir: Path | None = None

    def __post_init__(self):
        for name in ("max_batch_size", "max_queue", "retry_after_s", "max_body_bytes", "max_images_per_request", "max_pixels"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {self.max_wait_ms!r}.")
        if self.max_images_per_request > self.max_queue:
            raise ValueError(f"max_images_per_request ({self.max_images_per_request}) must not exceed max_queue "
                             f"({self.max_queue}), or such requests could never be accepted.")
        if self.media_root is not None and not Path(self.media_root).is_dir():
            raise ValueError(f"media_root {self.media_root} is not a folder; create it or leave it unset.")
