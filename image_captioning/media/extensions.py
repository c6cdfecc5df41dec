"""The one table of media file extensions, and what kind of media a path is."""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".pnm"}
)
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})


def media_kind_of(path: str | os.PathLike) -> str | None:
    """'image' or 'video' from the file extension; None when the extension is unknown.

    Example:
        >>> media_kind_of("clip.MP4"), media_kind_of("notes.txt")
        ('video', None)
    """
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return None


def is_video_path(path: str | os.PathLike) -> bool:
    return media_kind_of(path) == "video"
