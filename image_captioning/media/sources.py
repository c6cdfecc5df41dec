"""Turn what the user passes (paths, folders, globs, videos, arrays, PIL images) into ordered work items."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from image_captioning.media.extensions import is_video_path, media_kind_of
from image_captioning.results import ItemError

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class WorkItem:
    """One unit of work: an image file, a video file, an in-memory image, or an input that failed to expand.

    Args:
        index: position of the item in the output order (0-based).
        source: the path, or a description such as `"<array #2>"` for in-memory images.
        kind: `"image"`, `"video"` or `"error"`.
        path: the file, for file inputs.
        image: the NumPy array or PIL image, for in-memory inputs.
        error: why the input produced no file (kind `"error"` only).

    Example:
        >>> item = WorkItem(0, "cat.jpg", "image", path=Path("cat.jpg"))
        >>> item.kind
        'image'
    """

    index: int
    source: str
    kind: str
    path: Path | None = None
    image: np.ndarray | Image.Image | None = None
    error: str | None = None


def _file_item(index: int, path: Path) -> WorkItem:
    return WorkItem(index, str(path), "video" if is_video_path(path) else "image", path=path)


def _error_item(index: int, source: str, reason: str, fix: str) -> WorkItem:
    return WorkItem(index, source, "error", error=ItemError(source, reason, fix).message)


def _directory_files(directory: Path, recursive: bool) -> list[Path]:
    candidates = directory.rglob("*") if recursive else directory.iterdir()
    return sorted((p for p in candidates if p.is_file() and media_kind_of(p) is not None), key=lambda p: str(p))


def _looks_like_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def expand_inputs(inputs, *, recursive: bool = True) -> Iterator[WorkItem]:
    """Expand mixed inputs into work items, keeping the order they were given in.

    A directory (searched recursively by default) or a glob pattern expands in sorted
    path order at its own position; inside directories and globs only files with a
    known image or video extension are kept, while a file named explicitly is always
    tried. A 4-D array (N, H, W, C) expands into N images. Inputs that yield nothing
    (missing path, empty directory, glob without matches, unsupported type) become
    `"error"` items so every input is accounted for.

    Args:
        inputs: a single input or an iterable of: str / os.PathLike (file, directory,
            glob pattern), np.ndarray (RGB image or batch of images), PIL.Image.Image,
            or `WorkItem` (kept as it is, renumbered).
        recursive: search directories recursively; also lets `**` in globs cross folders.

    Example:
        >>> items = list(expand_inputs(["photos/", "clip.mp4", np.zeros((8, 8, 3), np.uint8)]))
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray, Image.Image, WorkItem)) or not isinstance(inputs, Iterable):
        inputs = [inputs]
    index = 0
    for position, value in enumerate(inputs):
        for item in _expand_one(value, position, recursive):
            yield WorkItem(index, item.source, item.kind, item.path, item.image, item.error)
            index += 1


def _expand_one(value, position: int, recursive: bool) -> Iterator[WorkItem]:
    if isinstance(value, WorkItem):
        yield value
        return
    if isinstance(value, np.ndarray):
        if value.ndim == 4:
            for i in range(value.shape[0]):
                yield WorkItem(0, f"<array #{position}[{i}]>", "image", image=value[i])
        else:
            yield WorkItem(0, f"<array #{position}>", "image", image=value)
        return
    if isinstance(value, Image.Image):
        name = getattr(value, "filename", "") or f"<PIL image #{position}>"
        yield WorkItem(0, name, "image", image=value)
        return
    if not isinstance(value, (str, os.PathLike)):
        yield _error_item(
            0,
            f"<input #{position}>",
            f"unsupported input type {type(value).__name__}",
            "pass a file path, directory, glob pattern, NumPy array or PIL image",
        )
        return

    text = os.fspath(value)
    path = Path(text).expanduser()
    if path.is_dir():
        files = _directory_files(path, recursive)
        if not files:
            yield _error_item(
                0, text, "directory contains no image or video files", "check the folder, or name the files explicitly"
            )
        for file in files:
            yield _file_item(0, file)
    elif path.exists():
        yield _file_item(0, path)
    elif _looks_like_glob(text):
        matches = sorted(glob.glob(os.path.expanduser(text), recursive=recursive))
        files = [Path(m) for m in matches if Path(m).is_file() and media_kind_of(m) is not None]
        if not files:
            yield _error_item(0, text, "glob pattern matched no image or video files", "check the pattern and the folder")
        for file in files:
            yield _file_item(0, file)
    else:
        yield _error_item(0, text, "file not found", f"check the path (relative paths start at {os.getcwd()})")
