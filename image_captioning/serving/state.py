"""`ServerState`: what every route shares (engine, batcher, metrics, settings, readiness)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from image_captioning.serving.batcher import BatcherClosed, DynamicBatcher, QueueFull
from image_captioning.serving.engine import CaptionEngine
from image_captioning.serving.errors import RequestError
from image_captioning.serving.metrics import ServerMetrics
from image_captioning.serving.settings import ServerSettings


@dataclasses.dataclass
class ServerState:
    """The running server's shared objects; `open()` at start-up, `close()` at shutdown.

    Args:
        engine: the `CaptionEngine`.
        settings: the `ServerSettings`.
        metrics: the server's `ServerMetrics` (a fresh registry by default).

    Example:
    ```python
    state = ServerState(engine, ServerSettings(max_batch_size=8))
    state.open()
    captions = await state.caption([("cat.jpg", jpeg_bytes)])
    state.close()
    ```
    """

    engine: CaptionEngine
    settings: ServerSettings
    metrics: ServerMetrics = dataclasses.field(default_factory=ServerMetrics)
    ready: bool = False
    draining: bool = False

    def __post_init__(self):
        self.batcher = DynamicBatcher(
            self.engine.caption_batch, max_batch_size=self.settings.max_batch_size,
            max_wait_s=self.settings.max_wait_ms / 1000.0, max_queue=self.settings.max_queue,
            on_batch=self.metrics.batch_sizes.observe, on_depth=self.metrics.queue_depth.set,
        )
        self._own_upload_dir = self.settings.upload_dir is None
        self.upload_dir = Path(self.settings.upload_dir or tempfile.mkdtemp(prefix="captioning-uploads-"))
        self.video_slots = asyncio.Semaphore(2)  # one video captioned, one waiting; more get 503

    def open(self, warm_up: bool = True) -> None:
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        if warm_up:
            self.engine.warm_up(self.settings.max_batch_size)
        self.batcher.start()
        self.ready = True

    def begin_drain(self) -> None:
        """Readiness turns false at once (load balancers stop sending); accepted work still finishes."""
        self.draining = True
        self.ready = False

    def close(self) -> None:
        self.begin_drain()
        self.batcher.close()
        if self._own_upload_dir:
            shutil.rmtree(self.upload_dir, ignore_errors=True)

    def overloaded(self, reason: str) -> RequestError:
        return RequestError(503, reason, headers={"Retry-After": str(self.settings.retry_after_s)})

    async def caption(self, files: list[tuple[str, bytes]]) -> list:
        """(name, encoded bytes) -> per image its captions, batched with other requests' images."""
        pixels = [await run_in_threadpool(self.engine.prepare, data, name) for name, data in files]
        try:
            futures = self.batcher.submit(pixels)
        except QueueFull as error:
            raise self.overloaded(str(error)) from None
        except BatcherClosed as error:
            raise self.overloaded(str(error)) from None
        results = await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))
        self.metrics.images.inc(len(results))
        return results
