"""A `ClipCapModelHandler` for fault tests: it notes every model load and batch with its process id, and
SIGKILLs its own SDK worker process on the N-th batch, once per marker file (a real crash, no exception)."""

import os
import signal

from image_captioning.beam import ClipCapModelHandler


class KillOnceHandler(ClipCapModelHandler):
    """Args (besides `ClipCapModelHandler`'s):
        log: file that gets a line "load PID" per model load and "batch PID ROWS" per batch.
        marker: created just before the kill; while it exists nothing is killed.
        kill_at: which batch of the process dies (1-based); None: never.
    """

    def __init__(self, model, generation=None, *, log, marker, kill_at=None, **kwargs):
        super().__init__(model, generation, **kwargs)
        self.log, self.marker, self.kill_at = str(log), str(marker), kill_at
        self._batches = 0

    def _load(self):  # the real load, behind the handler's one-model-per-process cache
        model = super()._load()
        _note(self.log, f"load {os.getpid()}")
        return model

    def run_inference(self, batch, model, inference_args=None):
        self._batches += 1
        if self.kill_at is not None and self._batches >= self.kill_at and _claim(self.marker):
            os.kill(os.getpid(), signal.SIGKILL)
        results = super().run_inference(batch, model, inference_args)
        _note(self.log, f"batch {os.getpid()} {len(batch)}")
        return results


def _claim(marker) -> bool:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _note(path, line):
    with open(path, "a") as handle:  # one short append per line: lines from several processes do not interleave
        handle.write(line + "\n")
