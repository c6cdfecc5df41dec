"""Serving artifacts of a `ClipCap`: `export_model(captioner, path, format)`.

`tf_saved_model`: one SavedModel, encoded images in, captions out (`saved_model`).
`onnx`: the image encoder + mapper + prefix pass, and the cached decoder step, as two ONNX graphs
(`onnx_graphs`; `onnx_runtime.OnnxGreedyCaptioner` runs them).
`litert`: the same two graphs as LiteRT models (`litert_graphs`; `litert_runtime.LiteRtGreedyCaptioner`).
"""

EXPORT_FORMATS = ("tf_saved_model", "onnx", "litert")


def export_model(captioner, path, format="tf_saved_model", **options):
    """Writes `captioner` in `format` at `path`; `options` go to that format's exporter."""
    from custom_architectures.gpt2 import GPT2Decoder

    if not isinstance(captioner.model.decoder, GPT2Decoder):
        raise ValueError(f"Export writes the GPT-2 decoding graphs; this model's decoder is a "
                         f"{type(captioner.model.decoder).__name__}: caption with predict() instead.")
    if format == "tf_saved_model":
        from image_captioning.export.saved_model import export_saved_model

        return export_saved_model(captioner, path, **options)
    if format == "onnx":
        from image_captioning.export.onnx_graphs import export_onnx

        return export_onnx(captioner, path, **options)
    if format == "litert":
        from image_captioning.export.litert_graphs import export_litert

        return export_litert(captioner, path, **options)
    raise ValueError(f"Unknown export format {format!r}; choose one of {EXPORT_FORMATS}.")


__all__ = ["EXPORT_FORMATS", "export_model"]
