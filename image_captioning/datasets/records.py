"""The one record type every dataset reader produces, and the error they raise."""

import dataclasses
import warnings

# Datasets spell their validation split differently (MSR-VTT says "validate").
SPLIT_ALIASES = {"validate": "val", "valid": "val", "validation": "val", "dev": "val"}


def normalize_split(split):
    """Lower-cases a split name and maps aliases ("validate", "dev", ...) to "val"."""
    if split is None:
        return None
    split = str(split).strip().lower()
    return SPLIT_ALIASES.get(split, split)


class DatasetFormatError(ValueError):
    """An annotation file does not have the expected format.

    The message starts with `file:line:` (or `file: json.path:`) so editors and terminals can
    jump to the offending row, then says what was found and what was expected.

    Args:
        path: the annotation file.
        problem: what is wrong, and what was expected instead.
        line: 1-based line number in a text file, when known.
        json_path: location inside a JSON document, e.g. `annotations[12].caption`.
    """

    def __init__(self, path, problem, line=None, json_path=None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.json_path = json_path
        location = self.path
        if line is not None:
            location += f":{line}"
        if json_path is not None:
            location += f": {json_path}"
        super().__init__(f"{location}: {problem}")


@dataclasses.dataclass
class CaptionRecord:
    """One image or video with all its reference captions.

    Args:
        media_path: path of the image or video file (a string, so records go straight into
            `tf.data` or JSON).
        captions: the reference captions, in file order; never empty.
        split: "train", "val", "test", ... or None when the source carries no split.
        media_kind: "image" or "video".

    Example:
    ```python
    record = CaptionRecord("Images/1000268201_693b08cb0e.jpg", ["A child in a pink dress ."])
    record.media_kind  # "image"
    ```
    """

    media_path: str
    captions: list
    split: str = None
    media_kind: str = "image"

    def __post_init__(self):
        self.media_path = str(self.media_path)
        if self.media_kind not in ("image", "video"):
            raise ValueError(f"media_kind must be 'image' or 'video', got {self.media_kind!r}")


def raise_or_warn(error, strict):
    """Raises `error` when `strict`, otherwise warns with its message so the row can be skipped."""
    if strict:
        raise error
    warnings.warn(f"skipped: {error}", stacklevel=3)


def select_split(records, split):
    """Keeps the records of `split` (aliases such as "validate" count as "val"); all if None."""
    if split is None:
        return list(records)
    wanted = normalize_split(split)
    return [record for record in records if normalize_split(record.split) == wanted]
