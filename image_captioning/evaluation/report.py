"""An HTML page showing each image or video with its predicted and reference captions."""

import html
import os
from pathlib import Path
from urllib.parse import quote

from image_captioning.media.extensions import media_kind_of
from image_captioning.outputs.html_page import render_html_page, thumbnail_data_uri


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
    esc = html.escape
    rows = []
    for key in list(predictions)[:max_items]:
        media = _media_html(media_paths.get(key), out_path.parent, embed_thumbnails, thumbnail_size)
        references_html = "".join(f"<li>{esc(caption)}</li>" for caption in references.get(key, []))
        captions = f'<div class="predicted">{esc(predictions[key])}</div><ul class="references">{references_html}</ul>'
        rows.append((media, esc(str(key)), captions))
    out_path.write_text(render_html_page(title, ("", "id", "predicted / references"), rows, metrics), encoding="utf-8")
    return out_path


def _media_html(path, page_dir, embed, size):
    if path is None:
        return '<div class="missing">no media</div>'
    path = Path(path)
    if not embed:
        source = html.escape(quote(Path(os.path.relpath(path.resolve(), page_dir.resolve())).as_posix()))
        if media_kind_of(path) == "video":
            return f'<video src="{source}" controls muted loop></video>'
        return f'<img src="{source}" alt="{html.escape(path.name)}" loading="lazy">'
    uri = thumbnail_data_uri(path, size)
    if uri is None:
        return f'<div class="missing">cannot read {html.escape(str(path))}</div>'
    return f'<img src="{uri}" alt="{html.escape(path.name)}">'
