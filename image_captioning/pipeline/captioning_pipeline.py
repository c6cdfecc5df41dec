"""`CaptioningPipeline`: the public face of the producer-consumer pipeline, and `run_pipeline`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.media.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SHORT_SIDE
from image_captioning.pipeline.engine import PipelineRun
from image_captioning.pipeline.stats import PipelineStats
from image_captioning.results import Caption, ImageResult, VideoResult


@dataclass(frozen=True)
class PipelineOptions:
    """How a pipeline run is sized and paced; see `CaptioningPipeline` for each field."""

    resolution: int = 224
    batch_size: int = 32
    sampling: FrameSampling = field(default_factory=FrameSampling)
    decode_workers: int = 2
    preprocess_workers: int = 2
    max_items_in_flight: int | None = None
    max_frames_in_flight: int | None = None
    max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    recursive: bool = True
    flush_timeout: float = 0.5
    join_timeout: float = 30.0
    clip_frames: int | None = None

    def __post_init__(self):
        if self.batch_size < 1 or self.decode_workers < 1 or self.preprocess_workers < 1:
            raise ValueError("batch_size, decode_workers and preprocess_workers must be >= 1")
        if self.clip_frames is not None and self.clip_frames < 1:
            raise ValueError(f"clip_frames must be None or >= 1, got {self.clip_frames}")
        # The sampler shrinks video frames to the same short side as images.
        object.__setattr__(self, "sampling", replace(self.sampling, max_short_side=self.max_short_side))
        object.__setattr__(self, "max_items_in_flight", self.max_items_in_flight or max(2 * self.batch_size, 8))
        object.__setattr__(self, "max_frames_in_flight", self.max_frames_in_flight or 4 * self.batch_size)
        if self.max_items_in_flight < 1 or self.max_frames_in_flight < 1:
            raise ValueError("max_items_in_flight and max_frames_in_flight must be >= 1")


class CaptioningPipeline:
    """Caption many images and videos with overlapping decode, preprocess, encode and generate stages.

    Args:
        encode_fn: `(B, R, R, 3) float32 preprocessed images -> (B, E)` embeddings.
        caption_fn: `(B, E) embeddings -> list of B lists of Caption`, best caption first; with
            `clip_frames`, `(clips (B, clip_frames, E), frame_mask (B, clip_frames)) -> ...` instead.
        preprocess: `uint8 (H, W, 3) tensor -> float32 (R, R, 3)`, usable inside `tf.data.map`;
            defaults to `media.clip_preprocessing.clip_preprocess_tf` at `resolution`.
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
        clip_frames: frames per clip of a temporal model (see `pipeline.clips`): an image is
            captioned as a 1-frame clip, each video segment (a shot in "scenes" mode) from the clip
            of its frames and the whole video from the clip of all its frames. None (an image
            model) captions each frame alone and the whole video from the mean frame embedding.

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
        **options,
    ):
        self.encode_fn = encode_fn
        self.caption_fn = caption_fn
        self.preprocess = preprocess
        self.options = PipelineOptions(**options)

    def resolved_preprocess(self) -> Callable:
        if self.preprocess is not None:
            return self.preprocess
        from image_captioning.media.clip_preprocessing import clip_preprocess_tf

        resolution = self.options.resolution
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
        return PipelineRun(self, inputs, on_result, progress, stats if stats is not None else PipelineStats()).results()


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
