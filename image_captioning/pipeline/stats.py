"""Busy-time and high-water-mark accounting for the captioning pipeline."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

STAGES = ("decode", "preprocess", "encode", "generate", "write")


@dataclass
class StageStats:
    """Time one pipeline stage spent working (not waiting on its neighbours).

    Args:
        name: the stage ("decode", "preprocess", "encode", "generate" or "write").
        workers: how many threads run the stage in parallel.
        busy_s: seconds of work, summed over the stage's workers.
        calls: how many units of work were timed (frames, batches or results).

    Example:
        >>> s = StageStats("encode", workers=1, busy_s=3.0)
        >>> s.fraction(wall_s=4.0)
        0.75
    """

    name: str
    workers: int = 1
    busy_s: float = 0.0
    calls: int = 0

    def fraction(self, wall_s: float) -> float:
        """Share of the stage's capacity (wall time x workers) spent busy."""
        return self.busy_s / (wall_s * self.workers) if wall_s > 0 else 0.0


@dataclass
class PipelineStats:
    """Where a pipeline run spent its time and how full its buffers got.

    Pass an instance to `run_pipeline(..., stats=stats)`; it is filled while the run
    progresses and final once the run ends. The stage with the highest `fraction` is
    the bottleneck.

    Args:
        stages: per-stage busy time, keyed by stage name.
        wall_s: seconds from start to end of the run.
        items: results delivered.
        frames: frames (images and sampled video frames) captioned.
        errors: results that carry an error.
        peaks: high-water marks: "items_in_flight", "reorder_buffer", "frames_in_flight"
            and the size of each queue.
        limits: the configured bound for each entry of `peaks` that has one.

    Example:
        >>> stats = PipelineStats()
        >>> for result in run_pipeline(paths, encode_fn, caption_fn, stats=stats):
        ...     pass
        >>> print(stats.summary())
    """

    stages: dict[str, StageStats] = field(default_factory=lambda: {name: StageStats(name) for name in STAGES})
    wall_s: float = 0.0
    items: int = 0
    frames: int = 0
    errors: int = 0
    peaks: dict[str, int] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self._lock = threading.Lock()

    def add_busy(self, stage: str, seconds: float, calls: int = 1) -> None:
        with self._lock:
            entry = self.stages[stage]
            entry.busy_s += seconds
            entry.calls += calls

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add_busy(stage, time.perf_counter() - start)

    def observe(self, name: str, value: int) -> None:
        """Record `value` for the high-water mark `name`."""
        if value > self.peaks.get(name, 0):
            with self._lock:
                if value > self.peaks.get(name, 0):
                    self.peaks[name] = value

    def fractions(self) -> dict[str, float]:
        return {name: stage.fraction(self.wall_s) for name, stage in self.stages.items()}

    def to_dict(self) -> dict:
        return {
            "wall_s": self.wall_s,
            "items": self.items,
            "frames": self.frames,
            "errors": self.errors,
            "stages": {
                name: {"busy_s": s.busy_s, "fraction": s.fraction(self.wall_s), "workers": s.workers, "calls": s.calls}
                for name, s in self.stages.items()
            },
            "peaks": dict(self.peaks),
            "limits": dict(self.limits),
        }

    def summary(self) -> str:
        lines = [
            f"{self.items} items ({self.errors} errors), {self.frames} frames in {self.wall_s:.2f} s "
            f"({self.frames / self.wall_s if self.wall_s else 0.0:.1f} frames/s)"
        ]
        for name, stage in self.stages.items():
            lines.append(
                f"  {name:<10} busy {stage.busy_s:8.2f} s  {100 * stage.fraction(self.wall_s):5.1f}% "
                f"of {stage.workers} worker{'s' if stage.workers != 1 else ''}"
            )
        return "\n".join(lines)
