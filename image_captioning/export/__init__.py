"""Serving artifacts of a `ClipCap`: `export_model(captioner, path, format)`.

`tf_saved_model`: one SavedModel, encoded images in, captions out (`saved_model`).
"""

EXPORT_FORMATS = ("tf_saved_model",)


def export_model(captioner, path, format="tf_saved_model", **options):
    """Writes `captioner` in `format` at `path`; `options` go to that format's exporter."""
    if format == "tf_saved_model":
        from image_captioning.export.saved_model import export_saved_model

        return export_saved_model(captioner, path, **options)
    raise ValueError(f"Unknown export format {format!r}; choose one of {EXPORT_FORMATS}.")


__all__ = ["EXPORT_FORMATS", "export_model"]
