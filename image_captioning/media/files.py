"""The one check that a media file exists, is a file and is not empty, with errors that say what to do."""

from __future__ import annotations

import os
from pathlib import Path

from image_captioning.results import ItemError


def check_media_file(path: str | os.PathLike, name: str, kind: str) -> int:
    """Returns the size in bytes of `path`, or raises `ItemError` naming the file, the reason and the fix.

    Args:
        path: the file.
        name: how to name it in the message.
        kind: "image" or "video", for the wording of the fix.

    Example:
        >>> check_media_file("photos/cat.jpg", "cat.jpg", "image")
        48213
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ItemError(name, "file not found", "check the path") from None
    except OSError as exc:
        raise ItemError(name, f"cannot access the file ({exc.strerror})", "check the path and its permissions") from None
    if path.is_dir():
        raise ItemError(name, f"is a directory, not {'a video' if kind == 'video' else 'an image'}",
                        "pass the folder itself to predict (or expand_inputs) to caption the files in it")
    if size == 0:
        raise ItemError(name, "file is empty (0 bytes)", f"re-download or re-export the {kind}")
    return size
