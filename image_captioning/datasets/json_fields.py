"""Loads annotation JSON and reads its fields, raising DatasetFormatError with the JSON path."""

import json

from image_captioning.datasets.records import DatasetFormatError, raise_or_warn

_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def load_json(path):
    """Parses a JSON file; a syntax error names the line and column."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            return json.load(file)
    except json.JSONDecodeError as error:
        raise DatasetFormatError(
            path, f"invalid JSON at column {error.colno}: {error.msg}", line=error.lineno
        ) from None


def field(path, obj, key, json_path, expected_type):
    """`obj[key]`, checking presence and type.

    `json_path` locates `obj` in the document (e.g. `annotations[3]`); errors name
    `annotations[3].caption` and the expected type.
    """
    location = f"{json_path}.{key}" if json_path else key
    if not isinstance(obj, dict):
        raise DatasetFormatError(path, f"expected an object, got {type(obj).__name__}", json_path=json_path or "$")
    if key not in obj:
        raise DatasetFormatError(
            path, f"missing key {key!r}; present keys: {sorted(obj)}", json_path=location
        )
    value = obj[key]
    # bool is an int subclass in Python; never accept it as an id.
    if not isinstance(value, expected_type) or isinstance(value, bool):
        expected = " or ".join(_TYPE_NAMES.get(kind, kind.__name__) for kind in _as_tuple(expected_type))
        raise DatasetFormatError(
            path, f"expected {expected}, got {type(value).__name__} {value!r:.60}", json_path=location
        )
    return value


def caption_field(path, obj, key, json_path):
    """A non-empty caption string, stripped."""
    caption = field(path, obj, key, json_path, str).strip()
    if not caption:
        raise DatasetFormatError(path, "empty caption; expected a non-empty string", json_path=f"{json_path}.{key}")
    return caption


def group_captions(path, document, list_key, id_key, id_type, known_ids, id_kind, strict):
    """Groups `document[list_key]` entries ({id_key, "caption"}) into {id: [captions]}.

    An id not in `known_ids` or a malformed entry raises (or, with strict=False, warns and is
    skipped); `id_kind` names the list the ids must come from, e.g. "images".
    """
    grouped = {}
    for index, entry in enumerate(field(path, document, list_key, "", list)):
        json_path = f"{list_key}[{index}]"
        try:
            item_id = field(path, entry, id_key, json_path, id_type)
            if item_id not in known_ids:
                raise DatasetFormatError(
                    path, f"unknown {id_key.replace('_', ' ')} {item_id!r}; expected an id listed in `{id_kind}`",
                    json_path=f"{json_path}.{id_key}",
                )
            caption = caption_field(path, entry, "caption", json_path)
        except DatasetFormatError as error:
            raise_or_warn(error, strict)
            continue
        grouped.setdefault(item_id, []).append(caption)
    return grouped


def _as_tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)
