"""Subtitle and JSON files for captioned videos: SRT, WebVTT and JSON."""

from __future__ import annotations

import json
from pathlib import Path

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
