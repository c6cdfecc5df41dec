"""`MatchPatterns`: file patterns on any Beam filesystem -> one `FileMetadata` per media file, or an error."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from image_captioning.beam import counters
from image_captioning.beam.records import ErrorRecord
from image_captioning.media.extensions import media_kind_of

ERRORS = "errors"
_GLOB_CHARS = frozenset("*?[")


class MatchPatterns(beam.DoFn):
    """Lists each pattern (local, `gs://`, `s3://`, ...) as `fileio.MatchAll` does, but records what it cannot list.

    As in `predict`: a pattern with wildcards keeps only files with an image or video extension, a file named
    without wildcards is always tried, and a pattern that names nothing becomes an `ErrorRecord` on the
    `errors` output instead of vanishing. Object-store "folder" markers (paths ending in "/") are skipped,
    as `fileio.ReadMatches` skips them.

    Example:
    ```python
    matched = patterns | beam.ParDo(MatchPatterns()).with_outputs(ERRORS, main="files")
    files = matched.files | fileio.ReadMatches()
    ```
    """

    def process(self, pattern: str):
        try:
            found = FileSystems.match([pattern])[0].metadata_list
        except Exception as exc:  # noqa: BLE001 - an unlistable pattern is recorded, the others go on
            yield _pattern_error(pattern, f"cannot list the pattern ({type(exc).__name__}: {exc})",
                                 "check the scheme's extra is installed (apache-beam[gcp], [aws]) and the credentials")
            return
        wildcard = any(ch in _GLOB_CHARS for ch in pattern)
        files = [m for m in found if not m.path.endswith(("/", "\\"))]
        if wildcard:
            files = [m for m in files if media_kind_of(m.path) is not None]
        if not files and wildcard:
            yield _pattern_error(pattern, "glob pattern matched no image or video files", "check the pattern and the folder")
        elif not files:
            yield _pattern_error(pattern, "file not found", "check the path")
        yield from sorted(files, key=lambda m: m.path)


def _pattern_error(pattern: str, reason: str, fix: str):
    counters.counter("inputs").inc()  # a pattern that yields no file is an input of its own, counted as such
    return beam.pvalue.TaggedOutput(ERRORS, ErrorRecord(pattern, "pattern", reason, f"{pattern}: {reason}; {fix}"))
