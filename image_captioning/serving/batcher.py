"""`DynamicBatcher`: merges the images of concurrent requests into model batches, behind a bounded queue."""

from __future__ import annotations

import collections
import concurrent.futures
import threading
import time
from collections.abc import Callable, Sequence


class QueueFull(Exception):
    """The batcher's queue cannot take the items of a request; the client should retry later."""

    def __init__(self, requested: int, depth: int, capacity: int):
        self.requested, self.depth, self.capacity = requested, depth, capacity
        super().__init__(
            f"the server's queue is full ({depth} of {capacity} images waiting, this request adds {requested}); "
            "retry after the Retry-After delay, or send fewer images per request"
        )


class BatcherClosed(Exception):
    """The batcher is draining or stopped and accepts no new work."""


class DynamicBatcher:
    """Runs `run_batch` on batches gathered from items submitted by many threads or requests.

    One worker thread takes the oldest waiting item, then keeps gathering until it has
    `max_batch_size` items or `max_wait_s` has passed since it started gathering, and runs one
    batch. A request's items are accepted all together or not at all: `submit` raises `QueueFull`
    when they would take the queue past `max_queue`, so memory stays bounded under overload and
    every accepted item gets a result. `close()` stops accepting and finishes what was accepted.

    Args:
        run_batch: `callable(list_of_items) -> list_of_results`, one result per item, in order.
        max_batch_size: most items per call of `run_batch` (1 turns batching off).
        max_wait_s: how long the worker waits for a batch to fill once it has one item.
        max_queue: most items waiting (not yet in a batch) at once.
        on_batch: optional `callable(batch_size)`, called before each batch runs.
        on_depth: optional `callable(queue_depth)`, called whenever the queue grows or shrinks.

    Example:
    ```python
    batcher = DynamicBatcher(lambda xs: [x * 2 for x in xs], max_batch_size=8, max_wait_s=0.005)
    batcher.start()
    futures = batcher.submit([1, 2, 3])            # concurrent.futures.Future per item
    print([f.result() for f in futures])           # [2, 4, 6]
    batcher.close()
    ```
    """

    def __init__(self, run_batch: Callable[[list], Sequence], max_batch_size: int = 32, max_wait_s: float = 0.005,
                 max_queue: int = 256, on_batch: Callable[[int], None] | None = None,
                 on_depth: Callable[[int], None] | None = None):
        if max_batch_size < 1 or max_queue < 1 or max_wait_s < 0:
            raise ValueError(f"max_batch_size and max_queue must be >= 1 and max_wait_s >= 0, got "
                             f"{max_batch_size}, {max_queue}, {max_wait_s}.")
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.on_batch = on_batch or (lambda size: None)
        self.on_depth = on_depth or (lambda depth: None)
        self._items: collections.deque = collections.deque()
        self._changed = threading.Condition()
        self._accepting = True
        self._worker = threading.Thread(target=self._work, name="caption-batcher", daemon=True)

    @property
    def depth(self) -> int:
        return len(self._items)

    @property
    def accepting(self) -> bool:
        return self._accepting

    def start(self) -> DynamicBatcher:
        self._worker.start()
        return self

    def submit(self, items: Sequence) -> list[concurrent.futures.Future]:
        """Queues `items` (all or none); returns one future per item."""
        futures = [concurrent.futures.Future() for _ in items]
        with self._changed:
            if not self._accepting:
                raise BatcherClosed("the server is shutting down and accepts no new work")
            if len(self._items) + len(items) > self.max_queue:
                raise QueueFull(len(items), len(self._items), self.max_queue)
            self._items.extend(zip(items, futures))
            self.on_depth(len(self._items))
            self._changed.notify_all()
        return futures

    def wait_for_depth(self, depth: int, timeout: float | None = None) -> bool:
        """Blocks until at least `depth` items wait in the queue (for readiness probes and tests)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._items) >= depth, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stops accepting, lets the worker finish every accepted item, and joins it."""
        with self._changed:
            self._accepting = False
            self._changed.notify_all()
        if self._worker.is_alive():
            self._worker.join(timeout)

    def _next_batch(self) -> list:
        with self._changed:
            self._changed.wait_for(lambda: self._items or not self._accepting)
            if not self._items:
                return []
            deadline = time.monotonic() + self.max_wait_s
            while len(self._items) < self.max_batch_size and self._accepting:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._changed.wait(remaining):
                    break
            batch = [self._items.popleft() for _ in range(min(self.max_batch_size, len(self._items)))]
            self.on_depth(len(self._items))
            self._changed.notify_all()
            return batch

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                return
            batch = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
            if not batch:
                continue
            self.on_batch(len(batch))
            try:
                results = list(self.run_batch([item for item, _ in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"run_batch returned {len(results)} results for {len(batch)} items")
            except Exception as error:  # one failed batch fails its own requests, never the worker
                for _, future in batch:
                    future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results):
                future.set_result(result)
