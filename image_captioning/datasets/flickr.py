"""Reader for Flickr8k / Flickr30k caption files, in the three forms they are distributed in.

- `image,caption` CSV (Kaggle Flickr8k `captions.txt`): standard CSV quoting, so captions may
  hold commas and doubled quotes.
- `image_name| comment_number| comment` (Flickr30k `results.csv`): pipes followed by a space.
- `name.jpg#N<TAB>caption` (original Flickr8k `Flickr8k.token.txt`), no header.

The form is recognised from the first line.
"""

import csv
import io
from pathlib import Path

from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, raise_or_warn

COMMA_HEADER = "image,caption"
PIPE_HEADER = "image_name| comment_number| comment"
EXPECTED_FORMS = (
    f"a header `{COMMA_HEADER}`, a header `{PIPE_HEADER}`, "
    "or header-less `name.jpg#0<TAB>caption` lines"
)


def read_flickr_captions(path, images_dir=None, split=None, strict=True):
    """Reads a Flickr caption file into one CaptionRecord per image.

    Args:
        path: `captions.txt`, `results.csv` or `Flickr8k.token.txt`.
        images_dir: folder holding the images; defaults to the caption file's folder.
        split: label given to every record (these files carry no split of their own).
        strict: raise on a malformed row (default); if False, warn and skip it.

    Example:
    ```python
    records = read_flickr_captions("flickr8k/captions.txt", images_dir="flickr8k/Images")
    ```
    """
    path = Path(path)
    images_dir = Path(images_dir) if images_dir is not None else path.parent
    with open(path, encoding="utf-8-sig", newline="") as file:
        text = file.read()
    first_line = text.split("\n", 1)[0].strip()
    if _squashed(first_line) == _squashed(COMMA_HEADER):
        rows = _comma_rows(text)
    elif _squashed(first_line) == _squashed(PIPE_HEADER):
        rows = _pipe_rows(text)
    elif "\t" in first_line and "#" in first_line.split("\t", 1)[0]:
        rows = _token_rows(text)
    else:
        raise DatasetFormatError(path, f"unrecognised first line {first_line!r:.80}; expected {EXPECTED_FORMS}", line=1)

    captions_by_image = {}
    for line, image, caption, error in rows:
        if error is not None:
            raise_or_warn(DatasetFormatError(path, error, line=line), strict)
            continue
        captions_by_image.setdefault(image, []).append(caption)
    return [
        CaptionRecord(str(images_dir / image), captions, split, "image")
        for image, captions in captions_by_image.items()
    ]


def _comma_rows(text):
    """Yields (line, image, caption, error) for `image,caption` CSV rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    previous_end = reader.line_num
    for row in reader:
        line = previous_end + 1  # a quoted caption may span lines; report where the row starts
        previous_end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 2:
            yield line, None, None, (
                f"expected 2 columns `image,caption`, got {len(row)}: {row!r:.100}; "
                "quote captions that contain commas"
            )
            continue
        yield (line, *_checked(row[0], row[1]))


def _pipe_rows(text):
    """Yields (line, image, caption, error) for `image_name| comment_number| comment` rows."""
    for index, raw in enumerate(_lines(text)[1:], start=2):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split("|", 2)]
        if len(parts) != 3:
            yield index, None, None, (
                f"expected 3 pipe-separated columns `{PIPE_HEADER}`, got {len(parts)}: {raw!r:.100}"
            )
            continue
        if not parts[1].isdigit():
            yield index, None, None, f"comment_number must be an integer, got {parts[1]!r:.40}"
            continue
        yield (index, *_checked(parts[0], parts[2]))


def _token_rows(text):
    """Yields (line, image, caption, error) for `name.jpg#N<TAB>caption` rows."""
    for index, raw in enumerate(_lines(text), start=1):
        if not raw.strip():
            continue
        parts = raw.split("\t", 1)
        if len(parts) != 2 or "#" not in parts[0]:
            yield index, None, None, f"expected `name.jpg#N<TAB>caption`, got {raw!r:.100}"
            continue
        yield (index, *_checked(parts[0].rsplit("#", 1)[0], parts[1]))


def _lines(text):
    # str.splitlines would also split on U+2028 and friends inside captions, shifting line numbers.
    return [line.rstrip("\r") for line in text.split("\n")]


def _squashed(header):
    return header.replace(" ", "").lower()


def _checked(image, caption):
    """(image, caption, error) with surrounding whitespace removed."""
    image, caption = image.strip(), caption.strip()
    if not image:
        return None, None, "empty image name; expected a file name in the first column"
    if not caption:
        return None, None, f"empty caption for {image!r}; expected a non-empty caption"
    return image, caption, None
