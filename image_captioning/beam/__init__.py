"""Caption images and videos at scale with Apache Beam (install the `[beam]` extra).

`caption_with_beam` runs the whole job; `CaptionFiles` and `ClipCapModelHandler` are the parts to build your own.
"""

from image_captioning.beam.model_handler import ClipCapModelHandler, FrameInference
from image_captioning.beam.pipeline import add_caption_steps, caption_with_beam
from image_captioning.beam.records import ErrorRecord, FrameKey, VideoFacts
from image_captioning.beam.transforms import CaptionFiles

__all__ = ["CaptionFiles", "ClipCapModelHandler", "ErrorRecord", "FrameInference", "FrameKey", "VideoFacts",
           "add_caption_steps", "caption_with_beam"]
