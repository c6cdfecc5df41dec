"""`DecodeMedia`: a matched file's bytes -> CLIP-preprocessed frames keyed by `FrameKey`, or an error record."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import PurePosixPath

import apache_beam as beam
import numpy as np

from image_captioning.beam import counters
from image_captioning.beam.records import ErrorRecord, FrameKey, VideoFacts
from image_captioning.media.extensions import is_video_path
from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.media.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SHORT_SIDE, load_image
from image_captioning.media.video_reader import VideoReader
from image_captioning.results import ItemError

VIDEOS = "videos"
ERRORS = "errors"
_COPY_CHUNK = 8 << 20


def clip_pixels(image: np.ndarray, resolution: int) -> np.ndarray:
    """`predict`'s preprocessing exactly: its TensorFlow op run eagerly equals the op inside `tf.data.map`
    value for value, whereas a `tf.function` of it differs in the last bits."""
    from image_captioning.media.clip_preprocessing import clip_preprocess_tf

    return np.asarray(clip_preprocess_tf(image, resolution), np.float32)


class DecodeMedia(beam.DoFn):
    """Reads a `fileio.ReadableFile`, decodes it as `predict` does, and emits its preprocessed frames.

    Images give one frame; videos give their sampled frames (the same `FrameSampling` as `predict`) plus a
    `VideoFacts` on the `videos` output. The bytes are copied to a local file first because OpenCV and PIL's
    checks read from a path; that copy is what lets any Beam filesystem (gs://, s3://) feed the decoders.
    A file that cannot be read or decoded becomes an `ErrorRecord` on the `errors` output.

    Args:
        resolution: side of the CLIP input square (`ClipCap.resolution`).
        sampling: how frames are picked from videos (default: 8 uniform frames).
        max_short_side: images and frames are shrunk so their short side is at most this, as in `predict`.
        max_pixels: larger images are refused before decoding (decompression-bomb guard).

    Example:
    ```python
    decoded = readable_files | beam.ParDo(DecodeMedia(224)).with_outputs(VIDEOS, ERRORS, main="frames")
    ```
    """

    def __init__(self, resolution: int, sampling: FrameSampling | None = None,
                 max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE, max_pixels: int | None = DEFAULT_MAX_PIXELS):
        self.resolution = resolution
        # predict's PipelineOptions gives the sampler the images' short-side cap the same way.
        self.sampling = replace(sampling or FrameSampling(), max_short_side=max_short_side)
        self.max_short_side = max_short_side
        self.max_pixels = max_pixels
        self._folder = None

    def setup(self):
        self._folder = tempfile.mkdtemp(prefix="image-captioning-beam-")

    def teardown(self):
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def process(self, readable):
        source = readable.metadata.path
        kind = "video" if is_video_path(source) else "image"
        counters.counter("inputs").inc()
        local = os.path.join(self._folder, "input" + PurePosixPath(source).suffix.lower())
        try:
            try:
                with readable.open(mime_type="application/octet-stream") as src, open(local, "wb") as dst:
                    shutil.copyfileobj(src, dst, _COPY_CHUNK)
            except Exception as exc:  # noqa: BLE001 - an unreadable file is recorded, the others go on
                raise ItemError(source, f"cannot read the file ({type(exc).__name__}: {exc})",
                                "check the path and its permissions") from None
            if kind == "video":
                yield from self._video(local, source)
            else:
                yield self._image(local, source)
        except ItemError as exc:
            yield _error(source, kind, exc.reason, exc.message)
        except Exception as exc:  # noqa: BLE001 - one undecodable file must not stop the batch
            reason = f"unexpected error while decoding ({type(exc).__name__}: {exc})"
            yield _error(source, kind, reason, ItemError(source, reason, "check the file").message)
        finally:
            if os.path.exists(local):
                os.remove(local)

    def _image(self, local: str, source: str):
        image = load_image(local, name=source, max_short_side=self.max_short_side, max_pixels=self.max_pixels)
        counters.counter("frames").inc()
        return FrameKey(source, "image"), clip_pixels(image, self.resolution)

    def _video(self, local: str, source: str):
        reader = VideoReader(local, name=source)
        frames = reader.sample(self.sampling)
        sent, stopped = 0, None
        try:
            while True:
                try:
                    frame = next(frames, None)
                    if frame is None:
                        break
                    pixels = clip_pixels(frame.image, self.resolution)
                except ItemError as exc:
                    stopped = exc
                    break
                except Exception as exc:  # noqa: BLE001 - as predict: frames before the failure still count
                    stopped = ItemError(source, f"unexpected error while decoding ({type(exc).__name__}: {exc})",
                                        "check the file")
                    break
                counters.counter("frames").inc()
                yield FrameKey(source, "video", sent, frame.timestamp, frame.start, frame.end, frame.frame_index), pixels
                sent += 1
        finally:
            frames.close()
            reader.close()
        if sent == 0:
            error = stopped or ItemError(source, "no frames could be decoded", "check the file")
            yield _error(source, "video", error.reason, error.message)
            return
        warnings = list(reader.warnings)
        if stopped is not None:
            warnings.append(f"decoding stopped early, later frames are missing: {stopped.message}")
        yield beam.pvalue.TaggedOutput(VIDEOS, (source, VideoFacts(source, sent, reader.info.fps, reader.duration,
                                                                   tuple(warnings))))


def _error(source: str, kind: str, reason: str, message: str):
    return beam.pvalue.TaggedOutput(ERRORS, ErrorRecord(source, kind, reason, message))
