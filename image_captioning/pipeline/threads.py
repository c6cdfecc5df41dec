"""Thread plumbing for the pipeline: a shared stop signal, blocking queue and semaphore
operations that give up when it fires, and stage threads that report their failure.

Every blocking call waits in short slices and re-checks the stop signal, so that one
failing stage (or Ctrl-C in the caller) brings every other stage down within
`POLL_S` seconds instead of leaving it blocked on a queue forever.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

POLL_S = 0.05


class Stopped(Exception):
    """Raised inside a stage when the pipeline is shutting down."""


class StopSignal:
    """The pipeline-wide stop flag plus the first failure that caused it.

    Example:
        >>> signal = StopSignal()
        >>> signal.fail("encode", ValueError("bad batch"))
        >>> signal.is_set(), signal.stage
        (True, 'encode')
    """

    def __init__(self):
        self.event = threading.Event()
        self.error: BaseException | None = None
        self.stage: str | None = None
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()

    def fail(self, stage: str, error: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error, self.stage = error, stage
        self.event.set()

    def check(self) -> None:
        if self.event.is_set():
            raise Stopped


def put(q: queue.Queue, value, signal: StopSignal) -> None:
    """`q.put(value)` that raises `Stopped` instead of blocking past a stop."""
    while True:
        signal.check()
        try:
            q.put(value, timeout=POLL_S)
            return
        except queue.Full:
            continue


def get(q: queue.Queue, signal: StopSignal, timeout: float | None = None):
    """`q.get()` that raises `Stopped` on stop, and `queue.Empty` after `timeout` seconds (None: wait)."""
    waited = 0.0
    while True:
        signal.check()
        slice_s = POLL_S if timeout is None else min(POLL_S, max(timeout - waited, 0.0))
        try:
            return q.get(timeout=slice_s) if slice_s > 0 else q.get_nowait()
        except queue.Empty:
            waited += slice_s
            if timeout is not None and waited >= timeout:
                raise


def consume(q: queue.Queue, signal: StopSignal, end, handle) -> None:
    """Calls `handle(item)` for each item taken from `q` until the sentinel `end` arrives."""
    while (item := get(q, signal)) is not end:
        handle(item)


def acquire(semaphore: threading.Semaphore, signal: StopSignal) -> None:
    """`semaphore.acquire()` that raises `Stopped` instead of blocking past a stop."""
    while not semaphore.acquire(timeout=POLL_S):
        signal.check()


class StageThread(threading.Thread):
    """A daemon thread running one stage; any exception (KeyboardInterrupt included)
    is recorded on the signal, which stops the whole pipeline.

    Args:
        stage: stage name used in the thread name and in the failure report.
        target: the stage's loop; it returns normally when its input is exhausted.
        signal: the pipeline's stop signal.
    """

    def __init__(self, stage: str, target: Callable[[], None], signal: StopSignal, index: int = 0):
        super().__init__(name=f"captioning-{stage}-{index}", daemon=True)
        self.stage = stage
        self._target_fn = target
        self._signal = signal

    def run(self) -> None:
        try:
            self._target_fn()
        except Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - must catch KeyboardInterrupt to stop the others
            self._signal.fail(self.stage, exc)
