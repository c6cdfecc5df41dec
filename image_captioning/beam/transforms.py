"""`CaptionFiles`: file patterns -> captioned `ImageResult`s / `VideoResult`s and `ErrorRecord`s, as Beam transforms."""

from __future__ import annotations

import uuid

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import CompressionTypes
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from image_captioning.beam import decoding, matching, regroup


class CaptionFiles(beam.PTransform):
    """Captions every image and video the input patterns match, with ClipCap on each worker.

    patterns -> list (`MatchPatterns`) -> de-duplicate -> `fileio.ReadMatches` -> decode and preprocess
    (`DecodeMedia`) -> RunInference on frames -> images become results; video frames are regrouped per
    video in time order (CoGroupByKey with what decoding learnt) -> RunInference on each video's mean frame
    embedding for the whole-video caption. Both RunInference steps share one loaded model per worker.

    Args:
        handler: a `ClipCapModelHandler` (its model, decoding options and batching).
        resolution: the model's CLIP input side (`ClipCap.resolution`).
        sampling: `FrameSampling` for videos (default: 8 uniform frames, as `predict`).

    Returns:
        a dict of PCollections: "images" (`ImageResult`), "videos" (`VideoResult`), "errors" (`ErrorRecord`).

    Example:
    ```python
    with beam.Pipeline() as p:
        out = p | beam.Create(["gs://bucket/photos/*.jpg"]) | CaptionFiles(ClipCapModelHandler("clipcap-coco"), 224)
        out["images"] | beam.Map(lambda r: print(r.source, r.caption.text))
    ```
    """

    def __init__(self, handler, resolution: int, sampling=None):
        super().__init__()
        self.handler = handler
        self.resolution = resolution
        self.sampling = sampling
        self.model_tag = f"clipcap-{uuid.uuid4().hex}"  # one tag for both RunInference steps: one model per worker

    def expand(self, patterns):
        matched = patterns | "Match" >> beam.ParDo(matching.MatchPatterns()).with_outputs(matching.ERRORS, main="files")
        files = (
            matched.files
            | "KeyByPath" >> beam.Map(lambda metadata: (metadata.path, metadata))
            | "OncePerFile" >> beam.GroupByKey()
            | "FirstMatch" >> beam.Map(lambda grouped: next(iter(grouped[1])))
            | "Read" >> fileio.ReadMatches(compression=CompressionTypes.UNCOMPRESSED)
        )
        decoded = files | "Decode" >> beam.ParDo(decoding.DecodeMedia(self.resolution, self.sampling)).with_outputs(
            decoding.VIDEOS, decoding.ERRORS, main="frames")
        keyed_handler = KeyedModelHandler(self.handler)
        captioned = decoded.frames | "CaptionFrames" >> RunInference(keyed_handler, model_identifier=self.model_tag)
        image_frames, video_frames = captioned | "ImagesOrVideos" >> beam.Partition(regroup.is_video_frame, 2)
        images = image_frames | "ImageResults" >> beam.Map(regroup.image_result)
        videos = (
            {regroup.FRAMES: video_frames | "KeyBySource" >> beam.Map(regroup.video_frame), regroup.FACTS: decoded.videos}
            | "Regroup" >> beam.CoGroupByKey()
            | "Assemble" >> beam.Map(regroup.assemble_video)
            | "CaptionVideos" >> RunInference(keyed_handler, model_identifier=self.model_tag)
            | "VideoResults" >> beam.Map(regroup.with_video_caption)
        )
        errors = (matched.errors, decoded.errors) | "Errors" >> beam.Flatten()
        return {"images": images, "videos": videos, "errors": errors}
