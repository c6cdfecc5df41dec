"""The one HTML page renderer (the results gallery and the evaluation report) and its thumbnails."""

from __future__ import annotations

import base64
import html
import io
import os

import cv2
import numpy as np
from PIL import Image

from image_captioning.media.extensions import media_kind_of
from image_captioning.media.images import load_image
from image_captioning.media.video_reader import read_middle_frame

STYLE = (
    "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
    "td{border:1px solid #ccc;padding:6px;vertical-align:top}img,video{max-width:240px;max-height:240px}"
    ".error{color:#b00}.time{color:#666}.predicted{font-weight:bold}.references{color:#444}"
    ".missing{color:#a00}table.metrics td{border:none;padding:0 1em 0 0}"
)


def render_html_page(title: str, columns, rows, metrics: dict | None = None) -> str:
    """A page with an optional metrics table and one table row per entry.

    Args:
        title: page title (escaped here).
        columns: header texts (escaped here).
        rows: one sequence of cell HTML per row, already escaped by the caller.
        metrics: optional {name: value} shown above the table.

    Example:
        >>> page = render_html_page("Captions", ("", "Source"), [("<img src='a.jpg'>", "a.jpg")])
    """
    esc = html.escape
    parts = [
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><h1>{esc(title)}</h1>",
    ]
    if metrics:
        cells = "".join(f"<tr><td>{esc(str(name))}</td><td>{value:.4f}</td></tr>" for name, value in metrics.items())
        parts.append(f'<table class="metrics">{cells}</table>')
    parts.append("<table>\n<tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr>")
    parts += ["<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows]
    parts.append("</table></body></html>\n")
    return "\n".join(parts)


def media_thumbnail(path, max_side: int) -> np.ndarray | None:
    """A small uint8 RGB picture of an image file or of a video's middle frame; None if unreadable."""
    if not os.path.isfile(path):
        return None
    if media_kind_of(path) == "video":
        image = read_middle_frame(path)
    else:
        try:
            image = load_image(path, max_short_side=max_side * 2)
        except Exception:  # noqa: BLE001 - a page row without a picture is fine
            image = None
    if image is None:
        return None
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def thumbnail_data_uri(path, max_side: int) -> str | None:
    """`media_thumbnail` as an inline JPEG `data:` URI, so a page can travel without its media."""
    image = media_thumbnail(path, max_side)
    if image is None:
        return None
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
