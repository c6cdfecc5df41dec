"""`ResultWriter`: writes each result as it arrives: SRT, WebVTT and JSON per video, JSON Lines for
images, captioned-image overlays and an HTML gallery.

Files go next to their input, or into `output_dir` when one is given (then a name
already used in the run gets a `-1`, `-2`, ... suffix rather than being overwritten).
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from PIL import Image

from image_captioning.media.images import load_image
from image_captioning.outputs.html_page import media_thumbnail, render_html_page
from image_captioning.outputs.overlay import draw_caption
from image_captioning.outputs.subtitles import format_timestamp, write_json, write_srt, write_vtt
from image_captioning.results import ImageResult, VideoResult


def gallery_html(rows: list[tuple[ImageResult | VideoResult, str | None]], title: str = "Captions") -> str:
    """An HTML page with one table row per result: thumbnail (relative URL or None), source, captions."""
    esc = html.escape
    body = []
    for result, thumbnail in rows:
        picture = f'<img src="{esc(thumbnail)}" alt="">' if thumbnail else ""
        if not result.ok:
            details = f'<p class="error">{esc(result.error)}</p>'
        elif isinstance(result, VideoResult):
            whole = esc(result.caption.text) if result.caption else ""
            items = "".join(
                f"<li><span class=time>{format_timestamp(s.start, '.')}&ndash;{format_timestamp(s.end, '.')}</span> "
                f"{esc(s.caption.text)}</li>"
                for s in result.segments
            )
            details = f"<p><b>{whole}</b></p><ol>{items}</ol>"
        else:
            details = "<ol>" + "".join(f"<li>{esc(c.text)} <small>({c.score:.3f})</small></li>" for c in result.captions) + "</ol>"
        body.append((picture, esc(result.source), details))
    return render_html_page(title, ("", "Source", "Captions"), body)


class ResultWriter:
    """Writes each result as it arrives; pass it as `run_pipeline(..., on_result=writer)`.

    Videos get `<name>.srt`, `<name>.vtt` and `<name>.json` (only the JSON when the video
    failed, carrying the error). Images get one line each in a `captions.jsonl` (in
    `output_dir`, or in the image's folder). Optionally each captioned image is also
    saved as `<name>.captioned.jpg`, and `close()` writes an HTML gallery.

    Args:
        output_dir: folder for all outputs; None writes next to each input (in-memory
            images then go to the current directory).
        video_formats: any of "srt", "vtt", "json".
        jsonl_name: file name of the images' JSON Lines file.
        overlay: also save images with their caption drawn on them.
        gallery: file name of an HTML gallery written by `close()` (relative to
            `output_dir`, or to the current directory); None for no gallery.
        thumbnail_size: longest side of gallery thumbnails, pixels.

    Example:
        >>> with ResultWriter("out/", overlay=True, gallery="index.html") as writer:
        ...     for result in run_pipeline(["photos/", "clip.mp4"], encode, caption, on_result=writer):
        ...         pass
    """

    def __init__(
        self,
        output_dir=None,
        *,
        video_formats=("srt", "vtt", "json"),
        jsonl_name: str = "captions.jsonl",
        overlay: bool = False,
        gallery: str | None = None,
        thumbnail_size: int = 240,
    ):
        unknown = set(video_formats) - {"srt", "vtt", "json"}
        if unknown:
            raise ValueError(f"unknown video formats {sorted(unknown)}; use srt, vtt, json")
        self.output_dir = Path(output_dir) if output_dir is not None else None
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        self.video_formats = tuple(video_formats)
        self.jsonl_name = jsonl_name
        self.overlay = overlay
        self.gallery = gallery
        self.thumbnail_size = thumbnail_size
        self.written: list[Path] = []
        self._jsonl_files: dict[Path, object] = {}
        self._used_names: set[Path] = set()
        self._gallery_rows: list[ImageResult | VideoResult] = []

    def __call__(self, result: ImageResult | VideoResult) -> None:
        if isinstance(result, VideoResult):
            self._write_video(result)
        else:
            self._write_image(result)
        if self.gallery:
            self._gallery_rows.append(result)

    def _folder_for(self, source: str) -> Path:
        if self.output_dir is not None:
            return self.output_dir
        return Path(source).parent if os.path.isfile(source) else Path.cwd()

    def output_path(self, source: str, suffix: str) -> Path:
        """Where the output with `suffix` (e.g. ".srt") for `source` goes; unique within this writer."""
        stem = _safe_name(source) if source.startswith("<") else Path(source).stem
        folder = self._folder_for(source)
        path, n = folder / f"{stem}{suffix}", 1
        while path in self._used_names:
            path, n = folder / f"{stem}-{n}{suffix}", n + 1
        self._used_names.add(path)
        return path

    def _write_video(self, result: VideoResult) -> None:
        formats = self.video_formats if result.ok else ("json",)
        writers = {"srt": (".srt", write_srt), "vtt": (".vtt", write_vtt), "json": (".json", write_json)}
        for name in formats:
            suffix, write = writers[name]
            self.written.append(write(result, self.output_path(result.source, suffix)))

    def _write_image(self, result: ImageResult) -> None:
        jsonl = self._folder_for(result.source) / self.jsonl_name
        handle = self._jsonl_files.get(jsonl)
        if handle is None:
            handle = self._jsonl_files[jsonl] = open(jsonl, "w", encoding="utf-8")
            self.written.append(jsonl)
        handle.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        handle.flush()
        if self.overlay and result.ok and result.caption is not None and os.path.isfile(result.source):
            image = load_image(result.source, max_short_side=None)
            path = self.output_path(result.source, ".captioned.jpg")
            Image.fromarray(draw_caption(image, result.caption.text)).save(path, quality=90)
            self.written.append(path)

    def write_gallery(self, path) -> Path:
        """Write the HTML gallery of every result seen so far, thumbnails in `<page>_thumbs/`."""
        path = Path(path)
        thumbs = path.parent / f"{path.stem}_thumbs"
        rows = []
        for n, result in enumerate(self._gallery_rows):
            picture = media_thumbnail(result.source, self.thumbnail_size)
            relative = None
            if picture is not None:
                thumbs.mkdir(parents=True, exist_ok=True)
                Image.fromarray(picture).save(thumbs / f"{n:05d}.jpg", quality=85)
                relative = f"{thumbs.name}/{n:05d}.jpg"
            rows.append((result, relative))
        path.write_text(gallery_html(rows), encoding="utf-8")
        self.written.append(path)
        return path

    def close(self) -> None:
        for handle in self._jsonl_files.values():
            handle.close()
        self._jsonl_files.clear()
        if self.gallery:
            folder = self.output_dir if self.output_dir is not None else Path.cwd()
            self.write_gallery(folder / self.gallery)
            self._gallery_rows = []

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _safe_name(source: str) -> str:
    """`<array #3[1]>` -> `array_3_1`: a file name for an in-memory input."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", source).strip("_")
    return name or "item"
