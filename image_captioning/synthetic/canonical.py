"""One canonical caption per scene, stating every attribute of every shape in a fixed order.

The generator's paraphrases omit the size in some captions and the position in others ("a red
circle and a blue star on a white background"); a captioner trained on them learns to omit them
too. A canonical caption always reads "a <size> <colour> <kind> <position>" per shape, shapes in
reading order of their cells (top row first, left to right), joined by "and", so the decoder has
one target per scene. Videos: "<shape> moves from <start> to <end>" or "<shape> <position>",
shots joined by ", then".
"""

import dataclasses
import json
from pathlib import Path

from image_captioning.synthetic.vocabulary import POSITION_CELLS, POSITION_PHRASES, with_article


# data.captions: the generator's paraphrases of each scene (the default), or its one canonical caption.
CAPTION_CHOICES = ("paraphrases", "canonical")


def wants_canonical_captions(choice):
    """Whether a data section's `captions` choice asks for canonical captions; a clear error for an unknown one."""
    if choice not in CAPTION_CHOICES:
        raise ValueError(f"data.captions={choice!r}: use 'paraphrases' (each scene's generated captions) or "
                         "'canonical' (one caption per scene, made from its ground truth).")
    return choice == "canonical"


def _reading_order(shape):
    column, row = POSITION_CELLS[shape["position"]]
    return (row, column)


def _shape_phrase(shape):
    return with_article(f"{shape['size']} {shape['colour']} {shape['kind']}")


def canonical_caption(entry):
    """The canonical caption of one scenes.json item (`{"kind": "image" | "video", "scene": {...}}`).

    Example:
    ```python
    canonical_caption(item)  # 'a small blue cross at the top and a large red circle on the left'
    ```
    """
    scene = entry["scene"]
    if entry["kind"] == "image":
        shapes = sorted(scene["shapes"], key=_reading_order)
        return " and ".join(f"{_shape_phrase(s)} {POSITION_PHRASES[s['position']]}" for s in shapes)
    clauses = []
    for shot in scene["shots"]:
        shape, end = shot["shape"], shot.get("end_position")
        where = f"moves from {shape['position']} to {end}" if end else POSITION_PHRASES[shape["position"]]
        clauses.append(f"{_shape_phrase(shape)} {where}")
    return ", then ".join(clauses)


def with_canonical_captions(records, scenes_json):
    """The records of a generated dataset with each caption list replaced by its one canonical caption."""
    scenes_json = Path(scenes_json)
    items = {(scenes_json.parent / item["file"]).resolve(): item for item in json.loads(scenes_json.read_text())["items"]}
    return [dataclasses.replace(record, captions=[canonical_caption(items[Path(record.media_path).resolve()])])
            for record in records]
