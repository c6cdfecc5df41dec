"""Reader for a plain folder of images/videos plus a CSV with `file,caption[,split]` columns.

One row per caption; a file with several captions has several rows. `file` is relative to the
media folder (absolute paths also work). The synthetic scenes generator writes this format.
"""

import csv
from pathlib import Path

from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, normalize_split, raise_or_warn, select_split
from image_captioning.media.extensions import media_kind_of

REQUIRED_COLUMNS = ("file", "caption")
OPTIONAL_COLUMNS = ("split",)


def read_folder_csv(path, images_dir=None, split=None, strict=True):
    """Reads a `file,caption[,split]` CSV into one CaptionRecord per file.

    Args:
        path: the CSV file.
        images_dir: folder the `file` column is relative to; defaults to the CSV's folder.
        split: if the CSV has a `split` column, keep only this split; otherwise the label given
            to every record.
        strict: raise on a malformed row (default); if False, warn and skip it.

    Example:
    ```python
    records = read_folder_csv("synthetic/captions.csv", split="train")
    ```
    """
    path = Path(path)
    images_dir = Path(images_dir) if images_dir is not None else path.parent
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = [name.strip().lower() for name in next(reader, [])]
        _check_header(path, header)
        rows = list(_rows(reader, header))

    has_split_column = "split" in header
    captions_by_file, split_by_file = {}, {}
    for line, values, column_error in rows:
        try:
            if column_error:
                raise DatasetFormatError(path, column_error, line=line)
            name, caption = values["file"].strip(), values["caption"].strip()
            row_split = normalize_split(values.get("split") or None) if has_split_column else split
            _check_row(path, line, name, caption)
            if split_by_file.setdefault(name, row_split) != row_split:
                raise DatasetFormatError(
                    path, f"{name!r} is in split {row_split!r} here but {split_by_file[name]!r} on an "
                    "earlier row; expected one split per file", line=line,
                )
        except DatasetFormatError as error:
            raise_or_warn(error, strict)
            continue
        captions_by_file.setdefault(name, []).append(caption)

    records = [
        CaptionRecord(str(images_dir / name), captions, split_by_file[name], media_kind_of(name))
        for name, captions in captions_by_file.items()
    ]
    return select_split(records, split) if has_split_column else records


def _check_header(path, header):
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        raise DatasetFormatError(
            path, f"header {header} lacks {missing} / has unknown {unknown}; "
            "expected `file,caption` with an optional `split` column", line=1,
        )


def _rows(reader, header):
    """Yields (line, {column: value}, error); error describes a wrong column count."""
    previous_end = reader.line_num
    for row in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            yield line, None, (
                f"expected {len(header)} columns {','.join(header)}, got {len(row)}: {row!r:.100}; "
                "quote captions that contain commas"
            )
            continue
        yield line, dict(zip(header, row)), None


def _check_row(path, line, name, caption):
    if not name:
        raise DatasetFormatError(path, "empty `file`; expected a file name", line=line)
    if not caption:
        raise DatasetFormatError(path, f"empty caption for {name!r}; expected a non-empty caption", line=line)
    if media_kind_of(name) is None:
        raise DatasetFormatError(
            path, f"{name!r} is neither an image nor a video; expected an image or video extension", line=line
        )
