"""`caption_with_beam`: build and run the whole Beam job: patterns in; JSONL, errors and per-video files out."""

from __future__ import annotations

import json
import logging

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.textio import WriteToText
from apache_beam.options.pipeline_options import PipelineOptions

from image_captioning.beam import counters
from image_captioning.beam.model_handler import ClipCapModelHandler
from image_captioning.beam.transforms import CaptionFiles
from image_captioning.beam.writing import VIDEO_FORMATS, WriteVideoFiles, output_path, video_file_stems


def _counted(element, name: str):
    counters.counter(name).inc()
    return element


def add_caption_steps(pipeline, inputs, output: str, handler: ClipCapModelHandler, resolution: int, *,
                      sampling=None, video_formats=VIDEO_FORMATS):
    """Adds the captioning job to `pipeline`. Files written under the `output` prefix (any Beam filesystem):

      * `<output>-captions-SSSSS-of-NNNNN.jsonl`: one `to_dict()` line per captioned image or video;
      * `<output>-errors-SSSSS-of-NNNNN.jsonl`: one `ErrorRecord` line per input that could not be captioned;
      * `<output>-videos/<name>.srt|.vtt|.json`: per video, the files `predict(output_dir=...)` writes.

    An `output` ending in "/" is a folder: `out/captions-...`, `out/videos/...`.
    """
    out = pipeline | "Inputs" >> beam.Create(list(inputs)) | "Caption" >> CaptionFiles(handler, resolution, sampling)
    _ = (
        (out["images"], out["videos"])
        | "Results" >> beam.Flatten()
        | "CountCaptions" >> beam.Map(_counted, "captions")
        | "ResultLines" >> beam.Map(lambda result: json.dumps(result.to_dict(), ensure_ascii=False))
        | "WriteCaptions" >> WriteToText(output_path(output, "captions"), file_name_suffix=".jsonl")
    )
    _ = (
        out["errors"]
        | "CountErrors" >> beam.Map(_counted, "errors")
        | "ErrorLines" >> beam.Map(lambda error: error.to_json())
        | "WriteErrors" >> WriteToText(output_path(output, "errors"), file_name_suffix=".jsonl")
    )
    stems = (
        out["videos"]
        | "VideoSources" >> beam.Map(lambda result: result.source)
        | "AllVideoSources" >> beam.combiners.ToList()
        | "VideoFileStems" >> beam.Map(video_file_stems)
    )
    _ = out["videos"] | "WriteVideoFiles" >> beam.ParDo(
        WriteVideoFiles(output_path(output, "videos/"), video_formats), stems=beam.pvalue.AsSingleton(stems))
    return out


def caption_with_beam(inputs, output: str, model: str, *, generation=None, sampling=None, video_formats=VIDEO_FORMATS,
                      min_batch_size=1, max_batch_size=32, large_model=False, model_copies=None,
                      pipeline_args=None, handler=None, attempts=1) -> dict[str, int]:
    """Runs the captioning job to the end and returns its counts ({"inputs", "captions", "errors", "frames"},
    plus "attempts": how many submissions it took).

    Args:
        inputs: file patterns on any Beam filesystem (`photos/*.jpg`, `gs://bucket/clips/**`, `s3://...`).
        output: prefix of the output files (see `add_caption_steps`).
        model: model folder (local or on a Beam filesystem) or known name; it must be readable by the workers.
        generation: decoding options over the model's defaults, as `predict` takes them.
        sampling: `FrameSampling` for videos (default: 8 uniform frames).
        video_formats: per-video files to write ("srt", "vtt", "json").
        min_batch_size, max_batch_size: RunInference batching of frames.
        large_model, model_copies: share the model between a worker's processes (see `ClipCapModelHandler`).
        pipeline_args: Beam's own options, e.g. ["--runner=DataflowRunner", "--project=...", ...].
        handler: a `ClipCapModelHandler` to use instead of one built from the arguments above.
        attempts: submit the whole job up to this many times. Dataflow, Flink and Spark retry a failed bundle
            themselves; Beam's FnApiRunner (the DirectRunner, the local job service) fails the job when an SDK
            worker dies, and a resubmission is what recovers. The last failure is raised.

    Example:
    ```python
    counts = caption_with_beam(["photos/*.jpg", "clips/*.mp4"], "out/", "clipcap-coco", generation={"strategy": "beam"})
    assert counts["inputs"] == counts["captions"] + counts["errors"]
    ```
    """
    from image_captioning.beam.model_files import local_model
    from image_captioning.clipcap import ClipCap

    resolution = ClipCap.from_pretrained(local_model(model)).resolution  # also fails fast on a wrong model path
    handler = handler or ClipCapModelHandler(model, generation, min_batch_size=min_batch_size,
                                             max_batch_size=max_batch_size, large_model=large_model,
                                             model_copies=model_copies)
    for attempt in range(1, attempts + 1):
        pipeline = beam.Pipeline(options=PipelineOptions(list(pipeline_args or [])))
        add_caption_steps(pipeline, inputs, output, handler, resolution, sampling=sampling, video_formats=video_formats)
        try:
            result = pipeline.run()
            result.wait_until_finish()
        except Exception as error:  # noqa: BLE001 - the runner's failure, re-raised after the last attempt
            if attempt == attempts:
                raise
            lines = [line for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
            logging.getLogger(__name__).warning("attempt %d of %d failed, resubmitting the job: %s ... %s",
                                                attempt, attempts, lines[0], lines[-1])
            remove_result_files(output)
            continue
        return {**counters.query_counts(result), "attempts": attempt}


def remove_result_files(output: str):
    """Deletes the JSONL shards a failed attempt may have finalised, so that a retry with another shard count
    leaves no stale shard (video files are simply rewritten with the same bytes)."""
    patterns = [output_path(output, name) + "-*-of-*.jsonl" for name in ("captions", "errors")]
    stale = [m.path for match in FileSystems.match(patterns) for m in match.metadata_list]
    if stale:
        FileSystems.delete(stale)
