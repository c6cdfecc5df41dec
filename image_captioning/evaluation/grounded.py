"""Grounded accuracy: reads each caption against the synthetic scene that was drawn.

BLEU and CIDEr reward a caption for sharing words with the references, so "a red circle" scores
well on a scene of a red star. Here every true shape (an image's shapes, a video's shots) is
paired with the caption's mention that agrees with it on the most attributes (an exhaustive
search over one-to-one pairings; scenes hold at most two shapes), then each attribute is checked.

Scoring rules:
- An attribute the caption does not state (no size word, no position phrase, a relation such as
  "to the left of" instead of a position) counts as wrong: the caption did not convey it.
- A true shape with no mention to pair with is wrong on every attribute.
- A video shot's motion is right when the caption states the true (start, end) motion, or states
  none for a still shape; its position is where the shape starts.
- "objects exact": the caption's (colour, kind) pairs are exactly the scene's, none missing and
  none invented. "scene exact": that, and every attribute of every shape right. "shots" (videos):
  the caption names as many shapes as the video has shots. "single-shot motion": the motion of
  the videos without a cut, whose one shape always moves, so a caption that guesses a direction
  is right a quarter of the time.
"""

import itertools
import json
from pathlib import Path

from image_captioning.evaluation.caption_parser import parse_caption

SCENES_FILE = "scenes.json"
SHAPE_ATTRIBUTES = ("colour", "kind", "size", "position")
METRIC_NAMES = {
    "colour": "colour acc",
    "kind": "shape acc",
    "size": "size acc",
    "position": "position acc",
    "colour+kind": "colour+shape acc",
    "motion": "motion acc",
    "single_shot_motion": "single-shot motion acc",
    "shots": "shots acc",
    "objects_exact": "objects exact",
    "scene_exact": "scene exact",
}


def true_shapes(entry):
    """The shapes of one scenes.json item as dicts of kind, colour, size, position (and motion for videos)."""
    scene = entry["scene"]
    if entry["kind"] == "image":
        return [{key: shape[key] for key in SHAPE_ATTRIBUTES} for shape in scene["shapes"]]
    shapes = []
    for shot in scene["shots"]:
        shape = {key: shot["shape"][key] for key in SHAPE_ATTRIBUTES}
        end = shot.get("end_position")
        shape["motion"] = (shape["position"], end) if end else None
        shapes.append(shape)
    return shapes


def score_caption(caption, entry):
    """Per-item verdicts: {"shapes": [{attribute: bool}], "objects_exact", "scene_exact", "shots" (videos)}."""
    truths = true_shapes(entry)
    mentions = parse_caption(caption)
    attributes = SHAPE_ATTRIBUTES + (("motion",) if entry["kind"] == "video" else ())
    pairs = _best_pairing(truths, mentions, attributes)
    shapes = []
    for truth, mention in zip(truths, pairs):
        verdict = {name: mention is not None and getattr(mention, name) == _comparable(truth[name]) for name in attributes}
        verdict["colour+kind"] = verdict["colour"] and verdict["kind"]
        shapes.append(verdict)
    named = sorted((m.colour or "", m.kind) for m in mentions)
    objects_exact = named == sorted((t["colour"], t["kind"]) for t in truths)
    result = {"shapes": shapes, "objects_exact": objects_exact,
              "scene_exact": objects_exact and all(all(v.values()) for v in shapes)}
    if entry["kind"] == "video":
        result["shots"] = len(mentions) == len(truths)
        result["scene_exact"] = result["scene_exact"] and result["shots"]
        if len(truths) == 1:
            result["single_shot_motion"] = shapes[0]["motion"]
    return result


def grounded_metrics(predictions, entries):
    """Accuracies over all items, as fractions in [0, 1].

    Args:
        predictions: {id: caption}.
        entries: {id: scenes.json item}; ids missing here are not scored.

    Returns:
        {"colour acc", "shape acc", "size acc", "position acc", "colour+shape acc" (per true shape),
        "objects exact", "scene exact" (per item), and for videos "motion acc" (per shot),
        "shots acc" (per video) and "single-shot motion acc" (per video without a cut)}.

    Example:
    ```python
    entry = {"kind": "image", "scene": {"shapes": [{"kind": "circle", "colour": "red", "size": "large", "position": "left"}]}}
    grounded_metrics({"0": "a large red circle on the left"}, {"0": entry})["scene exact"]  # 1.0
    ```
    """
    verdicts = [score_caption(predictions[key], entry) for key, entry in entries.items() if key in predictions]
    if not verdicts:
        return {}
    shapes = [shape for verdict in verdicts for shape in verdict["shapes"]]
    metrics = {}
    for name in SHAPE_ATTRIBUTES + ("colour+kind", "motion"):
        scored = [shape[name] for shape in shapes if name in shape]
        if scored:
            metrics[METRIC_NAMES[name]] = sum(scored) / len(scored)
    for name in ("shots", "single_shot_motion", "objects_exact", "scene_exact"):
        scored = [verdict[name] for verdict in verdicts if name in verdict]
        if scored:
            metrics[METRIC_NAMES[name]] = sum(scored) / len(scored)
    return metrics


def find_scene_entries(media_paths):
    """{index: scenes.json item} for the media a synthetic dataset describes; {} for other datasets.

    The generator writes `scenes.json` in the dataset folder, one level above `images/` and `videos/`.
    """
    entries, loaded = {}, {}
    for index, path in enumerate(media_paths):
        path = Path(path).resolve()
        for folder in (path.parent, path.parent.parent):
            if folder not in loaded:
                loaded[folder] = _load_items(folder / SCENES_FILE)
            item = loaded[folder].get(path)
            if item is not None:
                entries[index] = item
                break
    return entries


def _load_items(scenes_file):
    if not scenes_file.is_file():
        return {}
    items = json.loads(scenes_file.read_text())["items"]
    return {(scenes_file.parent / item["file"]).resolve(): item for item in items}


def _comparable(value):
    return tuple(value) if isinstance(value, list) else value


def _best_pairing(truths, mentions, attributes):
    """For each truth, its mention (or None) in the one-to-one pairing that agrees on the most attributes."""
    slots = list(mentions) + [None] * len(truths)
    best, best_score = [None] * len(truths), -1
    for chosen in itertools.permutations(range(len(slots)), len(truths)):
        paired = [slots[index] for index in chosen]
        score = sum(
            getattr(mention, name) == _comparable(truth[name])
            for truth, mention in zip(truths, paired)
            if mention is not None
            for name in attributes
        )
        if score > best_score:
            best, best_score = paired, score
    return best
