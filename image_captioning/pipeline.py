"""Producer-consumer captioning pipeline:

    feeder -> decode workers -> frame queue -> tf.data (map preprocess, batch)
           -> encode_fn -> caption_fn -> in-order collector (-> on_result / writers)

All stages run at once, each in its own thread (preprocessing in tf.data's threads),
connected by bounded queues. Memory stays bounded whatever the number or length of
the inputs: an item takes a slot before it is decoded and gives it back only once
its result has been delivered (this also bounds the reorder buffer), and a frame
takes a token before it enters the frame queue and gives it back once captioned.
Because the tokens may run out while frames sit in a half-filled batch, the frame
stream pads the batch with placeholder rows (dropped before `encode_fn`) whenever no
decoder is working or the batch has waited `flush_timeout` seconds.

Any exception in a stage, or KeyboardInterrupt in a stage or in the caller, sets one
stop signal; every blocking call polls it, all threads are joined, and the original
exception is re-raised from the results iterator.
"""

from __future__ import annotations

import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from image_captioning.inputs import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SHORT_SIDE,
    WorkItem,
    expand_inputs,
    is_video_path,
    load_image,
)
from image_captioning.pipeline_stats import PipelineStats
from image_captioning.pipeline_threads import StageThread, Stopped, StopSignal, acquire, get, put
from image_captioning.results import Caption, ImageResult, ItemError, VideoResult, VideoSegment
from image_captioning.video import FrameSampling, VideoReader

_END = object()  # end-of-stream sentinel passed between stages
_IDLE_POLL_S = 0.005


@dataclass
class _ItemState:
    """Everything known about one in-flight item; written by its decoder, then by the caption stage."""

    source: str
    kind: str
    fps: float = 0.0
    duration: float = 0.0
    warnings: list[str] = field(default_factory=list)
    received: int = 0
    total: int = -1
    captions: list[Caption] = field(default_factory=list)
    segments: list[tuple[int, VideoSegment]] = field(default_factory=list)
    embedding_sum: np.ndarray | None = None


@dataclass
class _EncodedBatch:
    items: np.ndarray
    slots: np.ndarray
    totals: np.ndarray
    times: np.ndarray  # (B, 3): timestamp, start, end
    frame_indices: np.ndarray
    embeddings: np.ndarray


def _error_result(source: str, message: str):
    if is_video_path(source):
        return VideoResult(source, error=message)
    return ImageResult(source, error=message)


class CaptioningPipeline:
    """Caption many images and videos with overlapping decode, preprocess, encode and generate stages.

    Args:
        encode_fn: `(B, R, R, 3) float32 preprocessed images -> (B, E)` embeddings.
        caption_fn: `(B, E) embeddings -> list of B lists of Caption`, best caption first.
        preprocess: `uint8 (H, W, 3) tensor -> float32 (R, R, 3)`, usable inside `tf.data.map`;
            defaults to `image_captioning.preprocessing.clip_preprocess_tf` at `resolution`.
        resolution: side R of the preprocessed square images.
        batch_size: frames per `encode_fn` call (the last batches of a run may be smaller).
        sampling: how frames are picked from videos.
        decode_workers: threads decoding images and videos.
        preprocess_workers: parallel calls of `preprocess` in tf.data.
        max_items_in_flight: items decoded ahead of the one to be delivered next; bounds the
            reorder buffer (default `max(2 * batch_size, 8)`).
        max_frames_in_flight: frames decoded but not yet captioned (default `4 * batch_size`).
        max_short_side: images and video frames are shrunk so their short side is at most this.
        max_pixels: larger image files are refused before decoding (decompression-bomb guard).
        recursive: search directories recursively.
        flush_timeout: seconds a partly filled batch waits for more frames while decoders are busy.
        join_timeout: seconds to wait for each thread when shutting down.

    Example:
        >>> pipeline = CaptioningPipeline(model.encode_images, generator.caption, batch_size=16)
        >>> for result in pipeline.run(["photos/", "clip.mp4"]):
        ...     print(result.source, result.caption.text if result.ok else result.error)
    """

    def __init__(
        self,
        encode_fn: Callable[[np.ndarray], np.ndarray],
        caption_fn: Callable[[np.ndarray], list[list[Caption]]],
        *,
        preprocess: Callable | None = None,
        resolution: int = 224,
        batch_size: int = 32,
        sampling: FrameSampling = FrameSampling(),
        decode_workers: int = 2,
        preprocess_workers: int = 2,
        max_items_in_flight: int | None = None,
        max_frames_in_flight: int | None = None,
        max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        recursive: bool = True,
        flush_timeout: float = 0.5,
        join_timeout: float = 30.0,
    ):
        if batch_size < 1 or decode_workers < 1 or preprocess_workers < 1:
            raise ValueError("batch_size, decode_workers and preprocess_workers must be >= 1")
        self.encode_fn = encode_fn
        self.caption_fn = caption_fn
        self.preprocess = preprocess
        self.resolution = resolution
        self.batch_size = batch_size
        self.sampling = replace(sampling, max_short_side=max_short_side)
        self.decode_workers = decode_workers
        self.preprocess_workers = preprocess_workers
        self.max_items_in_flight = max_items_in_flight or max(2 * batch_size, 8)
        self.max_frames_in_flight = max_frames_in_flight or 4 * batch_size
        if self.max_items_in_flight < 1 or self.max_frames_in_flight < 1:
            raise ValueError("max_items_in_flight and max_frames_in_flight must be >= 1")
        self.max_short_side = max_short_side
        self.max_pixels = max_pixels
        self.recursive = recursive
        self.flush_timeout = flush_timeout
        self.join_timeout = join_timeout

    def resolved_preprocess(self) -> Callable:
        if self.preprocess is not None:
            return self.preprocess
        from image_captioning.preprocessing import clip_preprocess_tf

        resolution = self.resolution
        return lambda image: clip_preprocess_tf(image, resolution)

    def run(
        self,
        inputs,
        *,
        on_result: Callable[[ImageResult | VideoResult], None] | None = None,
        progress: bool = True,
        stats: PipelineStats | None = None,
    ) -> Iterator[ImageResult | VideoResult]:
        """Yield one result per input item, in input order.

        Args:
            inputs: anything `expand_inputs` accepts (paths, folders, globs, arrays, PIL
                images, mixed), or `WorkItem`s.
            on_result: called with each result just before it is yielded (e.g. a writer);
                its time is reported as the "write" stage.
            progress: show a tqdm bar with items and frames per second.
            stats: a `PipelineStats` to fill with busy times and buffer high-water marks.
        """
        return _Run(self, inputs, on_result, progress, stats if stats is not None else PipelineStats()).results()


def run_pipeline(
    inputs,
    encode_fn: Callable[[np.ndarray], np.ndarray],
    caption_fn: Callable[[np.ndarray], list[list[Caption]]],
    preprocess: Callable | None = None,
    resolution: int = 224,
    batch_size: int = 32,
    *,
    on_result: Callable[[ImageResult | VideoResult], None] | None = None,
    progress: bool = True,
    stats: PipelineStats | None = None,
    **options,
) -> Iterator[ImageResult | VideoResult]:
    """Caption `inputs` and yield their results in input order.

    Shorthand for `CaptioningPipeline(encode_fn, caption_fn, ...).run(inputs, ...)`;
    `options` are the other `CaptioningPipeline` arguments (sampling, decode_workers, ...).

    Example:
        >>> stats = PipelineStats()
        >>> results = list(run_pipeline(["a.jpg", "clips/"], encode, caption, batch_size=8, stats=stats))
        >>> print(stats.summary())
    """
    pipeline = CaptioningPipeline(
        encode_fn, caption_fn, preprocess=preprocess, resolution=resolution, batch_size=batch_size, **options
    )
    return pipeline.run(inputs, on_result=on_result, progress=progress, stats=stats)


class _Run:
    """The queues, threads and bookkeeping of one `CaptioningPipeline.run` call."""

    def __init__(self, config: CaptioningPipeline, inputs, on_result, progress: bool, stats: PipelineStats):
        self.config = config
        self.inputs = inputs
        self.on_result = on_result
        self.progress = progress
        self.stats = stats
        self.signal = StopSignal()
        batch_size = config.batch_size
        self.work_queue: queue.Queue = queue.Queue(maxsize=2 * config.decode_workers)
        self.frame_queue: queue.Queue = queue.Queue(maxsize=min(batch_size, config.max_frames_in_flight))
        self.embed_queue: queue.Queue = queue.Queue(maxsize=2)
        self.result_queue: queue.Queue = queue.Queue(maxsize=config.max_items_in_flight)
        self.item_slots = threading.Semaphore(config.max_items_in_flight)
        self.frame_tokens = threading.Semaphore(config.max_frames_in_flight)
        self.states: dict[int, _ItemState] = {}
        self.lock = threading.Lock()
        self.items_in_flight = 0
        self.frames_in_flight = 0
        self.active_decoders = 0
        self.decoders_left = config.decode_workers
        self.total_items: int | None = None
        self.threads: list[StageThread] = []

        stats.stages["decode"].workers = config.decode_workers
        stats.stages["preprocess"].workers = config.preprocess_workers
        stats.limits.update(
            items_in_flight=config.max_items_in_flight,
            reorder_buffer=config.max_items_in_flight,
            frames_in_flight=config.max_frames_in_flight,
            frame_queue=self.frame_queue.maxsize,
            work_queue=self.work_queue.maxsize,
            embed_queue=self.embed_queue.maxsize,
            result_queue=self.result_queue.maxsize,
        )

    # -- feeder -------------------------------------------------------------------------

    def _feed(self) -> None:
        count = 0
        for item in expand_inputs(self.inputs, recursive=self.config.recursive):
            acquire(self.item_slots, self.signal)
            with self.lock:
                self.items_in_flight += 1
                self.stats.observe("items_in_flight", self.items_in_flight)
                self.states[item.index] = _ItemState(item.source, item.kind)
            count += 1
            if item.kind == "error":
                self._put(self.result_queue, (item.index, _error_result(item.source, item.error)), "result_queue")
            else:
                self._put(self.work_queue, item, "work_queue")
        self.total_items = count
        for _ in range(self.config.decode_workers):
            put(self.work_queue, _END, self.signal)

    def _put(self, q: queue.Queue, value, name: str) -> None:
        put(q, value, self.signal)
        self.stats.observe(name, q.qsize())

    # -- decode -------------------------------------------------------------------------

    def _decode_loop(self) -> None:
        while True:
            item = get(self.work_queue, self.signal)
            if item is _END:
                break
            self._decode_item(item)
        with self.lock:
            self.decoders_left -= 1
            last = self.decoders_left == 0
        if last:
            self._put(self.frame_queue, _END, "frame_queue")

    def _next_frame(self, frames: Iterator):
        with self.lock:
            self.active_decoders += 1
        start = time.perf_counter()
        try:
            return next(frames, None)
        finally:
            self.stats.add_busy("decode", time.perf_counter() - start)
            with self.lock:
                self.active_decoders -= 1

    def _decode_item(self, item: WorkItem) -> None:
        state = self.states[item.index]
        frames = self._video_frames(item, state) if item.kind == "video" else self._image_frames(item)
        pending, slot, error = None, 0, None
        try:
            while True:
                try:
                    frame = self._next_frame(frames)
                except Stopped:
                    raise
                except ItemError as exc:
                    error = exc.message
                    break
                except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the batch
                    error = ItemError(
                        item.source, f"unexpected error while decoding ({type(exc).__name__}: {exc})", "check the file"
                    ).message
                    break
                if frame is None:
                    break
                if pending is not None:
                    self._send_frame(item.index, slot, pending, total=-1)
                    slot += 1
                pending = frame
        finally:
            frames.close()
        if pending is None:
            if error is None:
                error = ItemError(item.source, "no frames could be decoded", "check the file").message
            self._put(self.result_queue, (item.index, _error_result(item.source, error)), "result_queue")
            return
        if error is not None:
            state.warnings.append(f"decoding stopped early, later frames are missing: {error}")
        # Holding one frame back lets the last one carry the item's frame count.
        self._send_frame(item.index, slot, pending, total=slot + 1)

    def _image_frames(self, item: WorkItem) -> Iterator[tuple]:
        image = load_image(item, max_short_side=self.config.max_short_side, max_pixels=self.config.max_pixels)
        yield image, 0.0, 0.0, 0.0, 0

    def _video_frames(self, item: WorkItem, state: _ItemState) -> Iterator[tuple]:
        reader = VideoReader(item.path, name=item.source, stop_event=self.signal.event)
        state.fps = reader.info.fps
        try:
            for frame in reader.sample(self.config.sampling):
                yield frame.image, frame.timestamp, frame.start, frame.end, frame.frame_index
        finally:
            state.duration = reader.duration
            state.warnings.extend(reader.warnings)
            reader.close()

    def _send_frame(self, item_index: int, slot: int, frame: tuple, total: int) -> None:
        acquire(self.frame_tokens, self.signal)
        with self.lock:
            self.frames_in_flight += 1
            self.stats.observe("frames_in_flight", self.frames_in_flight)
        image, timestamp, start, end, frame_index = frame
        record = (image, item_index, slot, total, np.array([timestamp, start, end], np.float64), frame_index)
        self._put(self.frame_queue, record, "frame_queue")

    # -- tf.data: preprocess and batch --------------------------------------------------

    def _frame_stream(self) -> Iterator[tuple]:
        """Frames for tf.data; pads a partial batch with placeholders when no more frames are coming soon."""
        batch_size = self.config.batch_size
        filler = (np.zeros((1, 1, 3), np.uint8), -1, -1, -1, np.zeros(3, np.float64), -1)
        in_batch, waiting_since = 0, None
        while True:
            try:
                record = get(self.frame_queue, self.signal, timeout=_IDLE_POLL_S if in_batch else None)
            except queue.Empty:
                if in_batch:
                    now = time.monotonic()
                    waiting_since = waiting_since or now
                    if self.active_decoders == 0 or now - waiting_since >= self.config.flush_timeout:
                        for _ in range(batch_size - in_batch):
                            yield filler
                        in_batch, waiting_since = 0, None
                continue
            except Stopped:
                return
            if record is _END:
                return
            waiting_since = None
            yield record
            in_batch = (in_batch + 1) % batch_size

    def _dataset(self):
        import tensorflow as tf

        resolution = self.config.resolution
        preprocess = self.config.resolved_preprocess()
        signature = (
            tf.TensorSpec((None, None, 3), tf.uint8),
            tf.TensorSpec((), tf.int64),
            tf.TensorSpec((), tf.int64),
            tf.TensorSpec((), tf.int64),
            tf.TensorSpec((3,), tf.float64),
            tf.TensorSpec((), tf.int64),
        )

        def timed_preprocess(image, item, slot, total, times, frame_index):
            start = tf.timestamp()
            with tf.control_dependencies([start]):
                pixels = tf.cond(
                    item >= 0,
                    lambda: tf.cast(preprocess(image), tf.float32),
                    lambda: tf.zeros((resolution, resolution, 3), tf.float32),
                )
            with tf.control_dependencies([pixels]):
                elapsed = tf.timestamp() - start
            pixels = tf.ensure_shape(pixels, (resolution, resolution, 3))
            return pixels, item, slot, total, times, frame_index, elapsed

        dataset = tf.data.Dataset.from_generator(self._frame_stream, output_signature=signature)
        dataset = dataset.map(timed_preprocess, num_parallel_calls=self.config.preprocess_workers, deterministic=True)
        return dataset.batch(self.config.batch_size).prefetch(1)

    # -- encode -------------------------------------------------------------------------

    def _encode_loop(self) -> None:
        iterator = iter(self._dataset())
        try:
            for batch in iterator:
                self.signal.check()
                pixels, items, slots, totals, times, frame_indices, elapsed = (t.numpy() for t in batch)
                valid = items >= 0
                self.stats.add_busy("preprocess", float(elapsed[valid].sum()), calls=int(valid.sum()))
                if not valid.any():
                    continue
                count = int(valid.sum())
                start = time.perf_counter()
                embeddings = np.asarray(self.config.encode_fn(pixels[valid]))
                self.stats.add_busy("encode", time.perf_counter() - start)
                if embeddings.ndim != 2 or embeddings.shape[0] != count:
                    raise ValueError(f"encode_fn returned shape {embeddings.shape} for {count} images; expected ({count}, E)")
                encoded = _EncodedBatch(
                    items[valid], slots[valid], totals[valid], times[valid], frame_indices[valid], embeddings
                )
                self._put(self.embed_queue, encoded, "embed_queue")
        finally:
            del iterator
        self.signal.check()
        self._put(self.embed_queue, _END, "embed_queue")

    # -- generate -----------------------------------------------------------------------

    def _caption_loop(self) -> None:
        while True:
            batch = get(self.embed_queue, self.signal)
            if batch is _END:
                break
            self._caption_batch(batch)
        self._put(self.result_queue, _END, "result_queue")

    def _caption_batch(self, batch: _EncodedBatch) -> None:
        completed: list[int] = []
        for row, item_index in enumerate(batch.items.tolist()):
            state = self.states[item_index]
            state.received += 1
            if batch.totals[row] >= 0:
                state.total = int(batch.totals[row])
            if state.kind == "video":
                vector = batch.embeddings[row].astype(np.float64)
                state.embedding_sum = vector if state.embedding_sum is None else state.embedding_sum + vector
            if state.received == state.total:
                completed.append(item_index)
        # Videos finished by this batch get their whole-video caption in the same caption_fn call.
        completed_videos = [i for i in completed if self.states[i].kind == "video"]
        rows = batch.embeddings
        if completed_videos:
            means = [self.states[i].embedding_sum / self.states[i].received for i in completed_videos]
            rows = np.concatenate([rows, np.stack(means).astype(rows.dtype)], axis=0)

        start = time.perf_counter()
        captions = list(self.config.caption_fn(rows))
        self.stats.add_busy("generate", time.perf_counter() - start)
        if len(captions) != len(rows):
            raise ValueError(f"caption_fn returned {len(captions)} caption lists for {len(rows)} embeddings")

        for row, item_index in enumerate(batch.items.tolist()):
            state = self.states[item_index]
            if state.kind == "video":
                timestamp, start_s, end_s = batch.times[row].tolist()
                segment = VideoSegment(
                    start_s, end_s, _best(captions[row]), int(batch.frame_indices[row]), timestamp
                )
                state.segments.append((int(batch.slots[row]), segment))
            else:
                state.captions = _candidates(captions[row])
        video_captions = dict(zip(completed_videos, captions[len(batch.items) :]))

        with self.lock:
            self.frames_in_flight -= len(batch.items)
        for _ in range(len(batch.items)):
            self.frame_tokens.release()

        for item_index in completed:
            state = self.states.pop(item_index)
            if state.kind == "video":
                result = VideoResult(
                    state.source,
                    [segment for _, segment in sorted(state.segments, key=lambda s: s[0])],
                    _best(video_captions[item_index]),
                    state.fps,
                    state.duration,
                    warnings=state.warnings,
                )
            else:
                result = ImageResult(state.source, state.captions)
            self._put(self.result_queue, (item_index, result), "result_queue")

    # -- collector ----------------------------------------------------------------------

    def _start(self) -> None:
        self.threads = [StageThread("feed", self._feed, self.signal)]
        self.threads += [
            StageThread("decode", self._decode_loop, self.signal, i) for i in range(self.config.decode_workers)
        ]
        self.threads += [
            StageThread("encode", self._encode_loop, self.signal),
            StageThread("generate", self._caption_loop, self.signal),
        ]
        for thread in self.threads:
            thread.start()

    def _shutdown(self) -> None:
        self.signal.set()
        deadline = time.monotonic() + self.config.join_timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            warnings.warn(f"pipeline threads still running after {self.config.join_timeout} s: {alive}", stacklevel=3)

    def results(self) -> Iterator[ImageResult | VideoResult]:
        started = time.perf_counter()
        bar = _progress_bar() if self.progress else None
        buffer: dict[int, ImageResult | VideoResult] = {}
        next_index = 0
        self._start()
        try:
            while True:
                message = get(self.result_queue, self.signal)
                if message is _END:
                    break
                index, result = message
                buffer[index] = result
                self.stats.observe("reorder_buffer", len(buffer))
                while next_index in buffer:
                    result = buffer.pop(next_index)
                    next_index += 1
                    if self.on_result is not None:
                        with self.stats.timed("write"):
                            self.on_result(result)
                    self._count(result)
                    with self.lock:
                        self.items_in_flight -= 1
                    self.item_slots.release()
                    if bar is not None:
                        self._update_bar(bar, started)
                    yield result
        except Stopped:
            pass
        finally:
            self._shutdown()
            self.stats.wall_s = time.perf_counter() - started
            if bar is not None:
                bar.close()
        if self.signal.error is not None:
            error = self.signal.error
            error.add_note(f"(raised in the {self.signal.stage} stage of the captioning pipeline)")
            raise error
        if buffer or (self.total_items is not None and next_index != self.total_items):
            raise RuntimeError(f"pipeline ended with {next_index} of {self.total_items} results delivered")

    def _count(self, result) -> None:
        self.stats.items += 1
        if not result.ok:
            self.stats.errors += 1
        elif isinstance(result, VideoResult):
            self.stats.frames += len(result.segments)
        else:
            self.stats.frames += 1

    def _update_bar(self, bar, started: float) -> None:
        if self.total_items is not None and bar.total != self.total_items:
            bar.total = self.total_items
        elapsed = time.perf_counter() - started
        bar.set_postfix(frames=self.stats.frames, fps=f"{self.stats.frames / elapsed:.1f}" if elapsed else "0", refresh=False)
        bar.update(1)


def _candidates(captions) -> list[Caption]:
    """caption_fn's entry for one row: a list of candidates (a lone Caption is accepted too)."""
    return [captions] if hasattr(captions, "text") else list(captions)


def _best(captions) -> Caption:
    captions = _candidates(captions)
    return captions[0] if captions else Caption("", float("-inf"), [])


def _progress_bar():
    from tqdm.auto import tqdm

    class _Bar(tqdm):
        monitor_interval = 0  # no monitor thread left running after the run

    return _Bar(unit="item", desc="captioning", dynamic_ncols=True)
