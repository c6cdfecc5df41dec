"""A model folder on any Beam filesystem (gs://, s3://) as a local folder `ClipCap.from_pretrained` can read."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from apache_beam.io.filesystems import FileSystems


def local_model(model: str) -> str:
    """`model` itself when it is a local folder or a known name; else its files copied into a fresh temp folder.

    Example:
        >>> local_model("gs://bucket/models/clipcap-coco")   # e.g. '/tmp/clipcap-model-1x2y/'
    """
    if "://" not in model:
        return model
    folder = Path(tempfile.mkdtemp(prefix="clipcap-model-"))
    pattern = model.rstrip("/") + "/*"
    files = FileSystems.match([pattern])[0].metadata_list
    if not files:
        raise FileNotFoundError(f"{model} holds no files; pass a folder written by ClipCap.save_pretrained")
    for metadata in files:
        name = metadata.path.rstrip("/").rsplit("/", 1)[-1]
        with FileSystems.open(metadata.path) as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst, 8 << 20)
    return str(folder)
