"""Write captioning results: SRT, WebVTT and JSON per video, JSON Lines for images,
captioned-image overlays and an HTML gallery.

Files go next to their input, or into `output_dir` when one is given (then a name
already used in the run gets a `-1`, `-2`, ... suffix rather than being overwritten).
"""

from __future__ import annotations

import html
import json
import os
import re
import textwrap
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from image_captioning.inputs import is_video_path, load_image
from image_captioning.results import ImageResult, VideoResult


def format_timestamp(seconds: float, decimal: str = ",") -> str:
    """`HH:MM:SS,mmm` (SRT, decimal=",") or `HH:MM:SS.mmm` (WebVTT, decimal=".")."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" marks a timing line, so neither may appear in cue text.
    return " ".join(text.split()).replace("-->", "->") or "..."


def _cue_times(result: VideoResult) -> list[tuple[float, float, str]]:
    cues = []
    for segment in result.segments:
        start, end = segment.start, max(segment.end, segment.start + 0.001)
        cues.append((start, end, _cue_text(segment.caption.text)))
    return cues


def srt_text(result: VideoResult) -> str:
    """The video's segment captions as SubRip (.srt) text."""
    blocks = [
        f"{n}\n{format_timestamp(start)} --> {format_timestamp(end)}\n{text}\n"
        for n, (start, end, text) in enumerate(_cue_times(result), 1)
    ]
    return "\n".join(blocks)


def vtt_text(result: VideoResult) -> str:
    """The video's segment captions as WebVTT (.vtt) text."""
    blocks = ["WEBVTT\n"]
    for n, (start, end, text) in enumerate(_cue_times(result), 1):
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{n}\n{format_timestamp(start, '.')} --> {format_timestamp(end, '.')}\n{escaped}\n")
    return "\n".join(blocks)


def write_srt(result: VideoResult, path) -> Path:
    path = Path(path)
    path.write_text(srt_text(result), encoding="utf-8")
    return path


def write_vtt(result: VideoResult, path) -> Path:
    path = Path(path)
    path.write_text(vtt_text(result), encoding="utf-8")
    return path


def write_json(result: ImageResult | VideoResult, path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def draw_caption(image: np.ndarray, text: str, font_size: int | None = None) -> np.ndarray:
    """A copy of uint8 RGB `image` with `text` wrapped on a dark band along its bottom edge.

    Example:
        >>> captioned = draw_caption(np.full((240, 320, 3), 200, np.uint8), "a grey square")
        >>> captioned.shape
        (240, 320, 3)
    """
    height, width = image.shape[:2]
    size = font_size or max(12, min(width, height) // 20)
    font = ImageFont.load_default(size=size)
    average_char = max(1.0, font.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    lines = textwrap.wrap(text, width=max(8, int((width - 2 * size) / average_char))) or [""]
    line_height = int(size * 1.25)
    band = min(height, line_height * len(lines) + size)

    canvas = Image.fromarray(image).convert("RGBA")
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle([0, height - band, width, height], fill=(0, 0, 0, 160))
    y = height - band + size // 2
    for line in lines:
        draw.text((size, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_height
    return np.asarray(Image.alpha_composite(canvas, overlay).convert("RGB"))


def _thumbnail_data(source: str, max_side: int) -> np.ndarray | None:
    """A small RGB picture of an image file or of a video's middle frame; None if unreadable."""
    if not os.path.isfile(source):
        return None
    if is_video_path(source):
        capture = cv2.VideoCapture(source)
        try:
            count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
            if count > 1:
                capture.set(cv2.CAP_PROP_POS_FRAMES, int(count // 2))
            ok, bgr = capture.read()
            if not ok:
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = capture.read()
        finally:
            capture.release()
        if not ok or bgr is None:
            return None
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    else:
        try:
            image = load_image(source, max_short_side=max_side * 2)
        except Exception:  # noqa: BLE001 - a gallery row without a picture is fine
            return None
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


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
        body.append(f"<tr><td>{picture}</td><td>{esc(result.source)}</td><td>{details}</td></tr>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}td{border:1px solid #ccc;padding:6px;"
        "vertical-align:top}img{max-width:240px;max-height:240px}.error{color:#b00}.time{color:#666}"
        f"</style></head><body><h1>{esc(title)}</h1>\n<table>\n<tr><th></th><th>Source</th><th>Captions</th></tr>\n"
        + "\n".join(body)
        + "\n</table></body></html>\n"
    )


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
            picture = _thumbnail_data(result.source, self.thumbnail_size)
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
