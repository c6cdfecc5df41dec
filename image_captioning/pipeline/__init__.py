"""The producer-consumer captioning pipeline: decode threads -> tf.data -> encode -> generate -> in-order results."""

from image_captioning.pipeline.captioning_pipeline import CaptioningPipeline, PipelineOptions, run_pipeline
from image_captioning.pipeline.stats import PipelineStats

__all__ = ["CaptioningPipeline", "PipelineOptions", "PipelineStats", "run_pipeline"]
