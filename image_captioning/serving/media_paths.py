"""Client-named files, confined to the operator's media folder: nothing a client sends reads outside it."""

from __future__ import annotations

from pathlib import Path

from image_captioning.serving.errors import RequestError


def resolve_media_path(root: Path | None, relative, field: str) -> Path:
    """A client-named file, only inside `root`: absolute paths, `..` and symlinks out of it are refused."""
    if root is None:
        raise RequestError(403, f"{field}: this server does not read files by path",
                           "upload the file instead (the operator can allow paths with --media-root)")
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise RequestError(400, f"{field} must be a non-empty relative path string")
    if Path(relative).is_absolute():
        raise RequestError(403, f"{field} {relative!r} is absolute", "give a path relative to the media folder")
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise RequestError(403, f"{field} {relative!r} is outside the media folder", "give a path inside it")
    if not path.is_file():
        raise RequestError(404, f"{field} {relative!r} is not a file in the media folder")
    return path


def read_media_file(path: Path, field: str, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise RequestError(413, f"{field} is {size} bytes, above this server's limit of {limit} bytes")
    return path.read_bytes()
