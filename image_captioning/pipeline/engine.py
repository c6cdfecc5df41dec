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
from collections.abc import Iterator

import numpy as np

from image_captioning.media.extensions import is_video_path
from image_captioning.media.frame_sampling import SampledFrame
from image_captioning.media.images import load_image
from image_captioning.media.sources import WorkItem, expand_inputs
from image_captioning.media.video_reader import VideoReader
from image_captioning.pipeline.clips import pack_clip, segment_groups, stack_clips
from image_captioning.pipeline.frames import PLACEHOLDER_ITEM, EncodedBatch, Frame, ItemState, element_signature, mean_frame_embedding
from image_captioning.pipeline.stats import PipelineStats
from image_captioning.pipeline.threads import StageThread, Stopped, StopSignal, acquire, consume, get, put
from image_captioning.results import Caption, ImageResult, ItemError, VideoResult, VideoSegment

_END = object()  # end-of-stream sentinel passed between stages
_IDLE_POLL_S = 0.005


def _error_result(source: str, message: str):
    if is_video_path(source):
        return VideoResult(source, error=message)
    return ImageResult(source, error=message)


class PipelineRun:
    """The queues, threads and bookkeeping of one `CaptioningPipeline.run` call.

    Args:
        pipeline: the `CaptioningPipeline` (its functions and `options`).
        inputs, on_result, progress, stats: as in `CaptioningPipeline.run`.
    """

    def __init__(self, pipeline, inputs, on_result, progress: bool, stats: PipelineStats):
        self.pipeline = pipeline
        self.options = config = pipeline.options
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
        self.states: dict[int, ItemState] = {}
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

    def _feed(self) -> None:
        count = 0
        for item in expand_inputs(self.inputs, recursive=self.options.recursive):
            acquire(self.item_slots, self.signal)
            with self.lock:
                self.items_in_flight += 1
                self.stats.observe("items_in_flight", self.items_in_flight)
                self.states[item.index] = ItemState(item.source, item.kind)
            count += 1
            if item.kind == "error":
                self._put(self.result_queue, (item.index, _error_result(item.source, item.error)), "result_queue")
            else:
                self._put(self.work_queue, item, "work_queue")
        self.total_items = count
        for _ in range(self.options.decode_workers):
            put(self.work_queue, _END, self.signal)

    def _put(self, q: queue.Queue, value, name: str) -> None:
        put(q, value, self.signal)
        self.stats.observe(name, q.qsize())

    def _decode_loop(self) -> None:
        consume(self.work_queue, self.signal, _END, self._decode_item)
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

    def _image_frames(self, item: WorkItem) -> Iterator[np.ndarray | SampledFrame]:
        yield load_image(item, max_short_side=self.options.max_short_side, max_pixels=self.options.max_pixels)

    def _video_frames(self, item: WorkItem, state: ItemState) -> Iterator[np.ndarray | SampledFrame]:
        reader = VideoReader(item.path, name=item.source, stop_event=self.signal.event)
        state.fps = reader.info.fps
        try:
            yield from reader.sample(self.options.sampling)
        finally:
            state.duration = reader.duration
            state.warnings.extend(reader.warnings)
            reader.close()

    def _send_frame(self, item_index: int, slot: int, decoded: np.ndarray | SampledFrame, total: int) -> None:
        acquire(self.frame_tokens, self.signal)
        with self.lock:
            self.frames_in_flight += 1
            self.stats.observe("frames_in_flight", self.frames_in_flight)
        sampled = decoded if isinstance(decoded, SampledFrame) else SampledFrame.still(decoded)
        frame = Frame(item_index, slot, total, sampled)
        self._put(self.frame_queue, frame, "frame_queue")

    def _frame_stream(self) -> Iterator[dict]:
        """tf.data elements; pads a partial batch with placeholders when no more frames are coming soon."""
        batch_size = self.options.batch_size
        filler = Frame.placeholder().to_element()
        in_batch, waiting_since = 0, None
        while True:
            try:
                frame = get(self.frame_queue, self.signal, timeout=_IDLE_POLL_S if in_batch else None)
            except queue.Empty:
                if in_batch:
                    now = time.monotonic()
                    waiting_since = waiting_since or now
                    if self.active_decoders == 0 or now - waiting_since >= self.options.flush_timeout:
                        for _ in range(batch_size - in_batch):
                            yield filler
                        in_batch, waiting_since = 0, None
                continue
            except Stopped:
                return
            if frame is _END:
                return
            waiting_since = None
            yield frame.to_element()
            in_batch = (in_batch + 1) % batch_size

    def _dataset(self):
        import tensorflow as tf

        resolution = self.options.resolution
        preprocess = self.pipeline.resolved_preprocess()

        def timed_preprocess(element):
            start = tf.timestamp()
            with tf.control_dependencies([start]):
                pixels = tf.cond(
                    element["item_index"] != PLACEHOLDER_ITEM,
                    lambda: tf.cast(preprocess(element["image"]), tf.float32),
                    lambda: tf.zeros((resolution, resolution, 3), tf.float32),
                )
            with tf.control_dependencies([pixels]):
                elapsed = tf.timestamp() - start
            element = {key: value for key, value in element.items() if key != "image"}
            return {**element, "pixels": tf.ensure_shape(pixels, (resolution, resolution, 3)), "elapsed": elapsed}

        dataset = tf.data.Dataset.from_generator(self._frame_stream, output_signature=element_signature())
        dataset = dataset.map(timed_preprocess, num_parallel_calls=self.options.preprocess_workers, deterministic=True)
        return dataset.batch(self.options.batch_size).prefetch(1)

    def _encode_loop(self) -> None:
        iterator = iter(self._dataset())
        try:
            for element in iterator:
                self.signal.check()
                batch = {key: value.numpy() for key, value in element.items()}
                valid = batch["item_index"] != PLACEHOLDER_ITEM
                self.stats.add_busy("preprocess", float(batch["elapsed"][valid].sum()), calls=int(valid.sum()))
                if not valid.any():
                    continue
                count = int(valid.sum())
                start = time.perf_counter()
                embeddings = np.asarray(self.pipeline.encode_fn(batch["pixels"][valid]))
                self.stats.add_busy("encode", time.perf_counter() - start)
                if embeddings.ndim != 2 or embeddings.shape[0] != count:
                    raise ValueError(f"encode_fn returned shape {embeddings.shape} for {count} images; expected ({count}, E)")
                self._put(self.embed_queue, EncodedBatch.from_rows(batch, valid, embeddings), "embed_queue")
        finally:
            del iterator
        self.signal.check()
        self._put(self.embed_queue, _END, "embed_queue")

    def _caption_loop(self) -> None:
        consume(self.embed_queue, self.signal, _END, self._caption_batch)
        self._put(self.result_queue, _END, "result_queue")

    def _caption_batch(self, batch: EncodedBatch) -> None:
        completed: list[int] = []
        for row, item_index in enumerate(batch.item_indices.tolist()):
            state = self.states[item_index]
            state.received += 1
            if batch.totals[row] >= 0:
                state.total = int(batch.totals[row])
            if state.kind == "video" and self.options.clip_frames:
                state.frames.append(batch.encoded_frame(row))
            elif state.kind == "video":
                state.frame_embeddings.append(batch.embeddings[row])
            if state.received == state.total:
                completed.append(item_index)
        if self.options.clip_frames:
            self._caption_clips(batch, completed)
            self._release_frames(batch)
            self._complete(completed, {})
            return
        # Videos finished by this batch get their whole-video caption in the same caption_fn call.
        completed_videos = [i for i in completed if self.states[i].kind == "video"]
        rows = batch.embeddings
        if completed_videos:
            means = [mean_frame_embedding(self.states[i].frame_embeddings) for i in completed_videos]
            rows = np.concatenate([rows, np.stack(means).astype(rows.dtype)], axis=0)

        start = time.perf_counter()
        captions = list(self.pipeline.caption_fn(rows))
        self.stats.add_busy("generate", time.perf_counter() - start)
        if len(captions) != len(rows):
            raise ValueError(f"caption_fn returned {len(captions)} caption lists for {len(rows)} embeddings")

        for row, item_index in enumerate(batch.item_indices.tolist()):
            state = self.states[item_index]
            if state.kind == "video":
                state.segments.append((int(batch.slots[row]), batch.segment(row, _best(captions[row]))))
            else:
                state.captions = _candidates(captions[row])
        video_captions = dict(zip(completed_videos, captions[len(batch.item_indices) :]))
        self._release_frames(batch)
        self._complete(completed, video_captions)

    def _caption_clips(self, batch: EncodedBatch, completed: list[int]) -> None:
        """Temporal model: the clips of the items this batch completes, captioned in one caption_fn call."""
        clip_frames = self.options.clip_frames
        image_rows = {int(item): row for row, item in enumerate(batch.item_indices.tolist())}
        clips, owners = [], []
        for item_index in completed:
            state = self.states[item_index]
            if state.kind != "video":
                clips.append(pack_clip(batch.embeddings[image_rows[item_index]][None], clip_frames))
                owners.append((item_index, None))
                continue
            for group in segment_groups(state.frames):
                clips.append(pack_clip([frame.embedding for frame in group], clip_frames))
                owners.append((item_index, group))
            clips.append(pack_clip([frame.embedding for frame in sorted(state.frames, key=lambda f: f.slot)], clip_frames))
            owners.append((item_index, None))
        if not clips:
            return
        start = time.perf_counter()
        captions = list(self.pipeline.caption_fn(*stack_clips(clips)))
        self.stats.add_busy("generate", time.perf_counter() - start)
        if len(captions) != len(clips):
            raise ValueError(f"caption_fn returned {len(captions)} caption lists for {len(clips)} clips")
        for (item_index, group), candidates in zip(owners, captions):
            state = self.states[item_index]
            if group is not None:
                middle = group[len(group) // 2]
                state.segments.append((group[0].slot, VideoSegment(group[0].start, group[0].end, _best(candidates),
                                                                   middle.frame_index, middle.timestamp)))
            else:
                state.captions = _candidates(candidates)

    def _release_frames(self, batch: EncodedBatch) -> None:
        with self.lock:
            self.frames_in_flight -= len(batch.item_indices)
        for _ in range(len(batch.item_indices)):
            self.frame_tokens.release()

    def _complete(self, completed: list[int], video_captions: dict) -> None:
        """Hands each completed item's result to the collector; a video's whole-video caption comes from
        `video_captions`, or (temporal model) is already its state's first caption."""
        for item_index in completed:
            state = self.states.pop(item_index)
            if state.kind == "video":
                result = VideoResult(
                    state.source,
                    [segment for _, segment in sorted(state.segments, key=lambda s: s[0])],
                    _best(video_captions.get(item_index, state.captions)),
                    state.fps,
                    state.duration,
                    warnings=state.warnings,
                )
            else:
                result = ImageResult(state.source, state.captions)
            self._put(self.result_queue, (item_index, result), "result_queue")

    def _start(self) -> None:
        self.threads = [StageThread("feed", self._feed, self.signal)]
        self.threads += [
            StageThread("decode", self._decode_loop, self.signal, i) for i in range(self.options.decode_workers)
        ]
        self.threads += [
            StageThread("encode", self._encode_loop, self.signal),
            StageThread("generate", self._caption_loop, self.signal),
        ]
        for thread in self.threads:
            thread.start()

    def _shutdown(self) -> None:
        self.signal.set()
        deadline = time.monotonic() + self.options.join_timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            warnings.warn(f"pipeline threads still running after {self.options.join_timeout} s: {alive}", stacklevel=3)

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
