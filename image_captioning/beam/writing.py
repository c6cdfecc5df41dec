"""Where the pipeline's files go under `--output`, and the per-video SRT / VTT / JSON files (via `outputs/`)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from image_captioning.outputs.subtitles import srt_text, vtt_text

VIDEO_FORMATS = ("srt", "vtt", "json")


def output_path(prefix: str, name: str) -> str:
    """`out/` + "captions" -> `out/captions`; `out/run` + "captions" -> `out/run-captions` (any filesystem)."""
    return prefix + name if prefix.endswith(("/", "\\")) else f"{prefix}-{name}"


def video_file_stems(sources) -> dict[str, str]:
    """{video source: file stem}: its name, then `-1`, `-2`, ... for repeated names, as `ResultWriter` names them.

    Example:
        >>> video_file_stems(["gs://b/x/clip.mp4", "gs://b/y/clip.mp4"])
        {'gs://b/x/clip.mp4': 'clip', 'gs://b/y/clip.mp4': 'clip-1'}
    """
    stems, used = {}, set()
    for source in sorted(sources):
        base = PurePosixPath(source.replace("\\", "/")).stem
        stem, n = base, 1
        while stem in used:
            stem, n = f"{base}-{n}", n + 1
        used.add(stem)
        stems[source] = stem
    return stems


def video_file_texts(result, formats=VIDEO_FORMATS) -> dict[str, str]:
    """{".srt": text, ...}: the same texts `ResultWriter` writes for a captioned video."""
    texts = {"srt": srt_text, "vtt": vtt_text,
             "json": lambda r: json.dumps(r.to_dict(), indent=2, ensure_ascii=False) + "\n"}
    return {f".{name}": texts[name](result) for name in formats}


class WriteVideoFiles(beam.DoFn):
    """Writes each captioned video's subtitle and JSON files into `folder` (any Beam filesystem).

    Rewriting a file on a retried bundle gives the same bytes, so retries are harmless.

    Args:
        folder: where the files go, e.g. `gs://bucket/run-videos/`.
        formats: any of "srt", "vtt", "json".

    Example:
    ```python
    videos | beam.ParDo(WriteVideoFiles("out/videos/"), stems=beam.pvalue.AsSingleton(stems))
    ```
    """

    def __init__(self, folder: str, formats=VIDEO_FORMATS):
        unknown = set(formats) - set(VIDEO_FORMATS)
        if unknown:
            raise ValueError(f"unknown video formats {sorted(unknown)}; use srt, vtt, json")
        self.folder = folder if folder.endswith(("/", "\\")) else folder + "/"
        self.formats = tuple(formats)

    def process(self, result, stems):
        for suffix, text in video_file_texts(result, self.formats).items():
            path = self.folder + stems[result.source] + suffix
            with FileSystems.create(path, mime_type="text/plain") as handle:
                handle.write(text.encode("utf-8"))
            yield path
