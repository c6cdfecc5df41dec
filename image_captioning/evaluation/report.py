"""An HTML page showing each image or video with its predicted and reference captions."""

import base64
import html
import io
import os
from pathlib import Path
from urllib.parse import quote

import cv2
from PIL import Image

from image_captioning.datasets.records import media_kind_of

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
.item { display: flex; gap: 1em; margin-bottom: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 1em; }
.item img, .item video { max-width: 240px; max-height: 240px; }
.predicted { font-weight: bold; }
.references { color: #444; margin: 0.3em 0 0 1.2em; padding: 0; }
.missing { width: 160px; color: #a00; }
table.metrics td { padding: 0 1em 0 0; }
"""


def write_html_report(out_path, predictions, references, media_paths, title="Captions", metrics=None,
                      embed_thumbnails=False, thumbnail_size=192, max_items=None):
    """Writes a self-describing HTML page of predictions next to their references.

    Args:
        out_path: the .html file to write.
        predictions: {id: predicted caption}.
        references: {id: [reference captions]}; ids missing here show no references.
        media_paths: {id: image or video path}.
        title: page title.
        metrics: optional {name: value} shown as a table at the top.
        embed_thumbnails: False links media by path relative to the page (the page must stay
            beside them); True embeds small JPEG thumbnails (a video shows its middle frame),
            so the page can be moved or mailed alone.
        thumbnail_size: longest side of embedded thumbnails, in pixels.
        max_items: show only the first ids.

    Example:
    ```python
    write_html_report("runs/eval/report.html", predictions, references,
                      {record_id: record.media_path for record_id, record in records.items()})
    ```
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ids = list(predictions)[:max_items]
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if metrics:
        rows = "".join(f"<tr><td>{html.escape(str(name))}</td><td>{value:.4f}</td></tr>" for name, value in metrics.items())
        parts.append(f'<table class="metrics">{rows}</table>')
    for key in ids:
        media = _media_html(media_paths.get(key), out_path.parent, embed_thumbnails, thumbnail_size)
        reference_items = "".join(f"<li>{html.escape(caption)}</li>" for caption in references.get(key, []))
        parts.append(
            f'<div class="item">{media}<div><div class="id">{html.escape(str(key))}</div>'
            f'<div class="predicted">{html.escape(predictions[key])}</div>'
            f'<ul class="references">{reference_items}</ul></div></div>'
        )
    parts.append("</body></html>")
    out_path.write_text("\n".join(parts), encoding="utf-8")
    return out_path


def _media_html(path, page_dir, embed, size):
    if path is None:
        return '<div class="missing">no media</div>'
    path = Path(path)
    kind = media_kind_of(path)
    if not embed:
        source = html.escape(quote(Path(os.path.relpath(path.resolve(), page_dir.resolve())).as_posix()))
        if kind == "video":
            return f'<video src="{source}" controls muted loop></video>'
        return f'<img src="{source}" alt="{html.escape(path.name)}" loading="lazy">'
    image = _still_image(path, kind)
    if image is None:
        return f'<div class="missing">cannot read {html.escape(str(path))}</div>'
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{encoded}" alt="{html.escape(path.name)}">'


def _still_image(path, kind):
    """A PIL image of the file, the middle frame for a video; None if it cannot be read."""
    if kind == "video":
        capture = cv2.VideoCapture(str(path))
        middle = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) // 2
        capture.set(cv2.CAP_PROP_POS_FRAMES, max(middle, 0))
        ok, frame = capture.read()
        capture.release()
        return Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)) if ok else None
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except OSError:
        return None
