"""Decides whether SPICE can run here; it needs Stanford CoreNLP jars that are not on PyPI."""

import importlib.util
from pathlib import Path

from image_captioning.evaluation.java_runtime import java_major_version

CORENLP_ZIP_URL = "http://nlp.stanford.edu/software/stanford-corenlp-full-2015-12-09.zip"
CORENLP_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")
# SPICE 1.0's FST cache reflects into java.lang.String, which Java 16+ forbids
# (InaccessibleObjectException); it is known to work on Java 8 and 11.
NEWEST_SPICE_JAVA = 11


def spice_lib_dir():
    """`pycocoevalcap/spice/lib`, where pycocoevalcap's Spice() looks for the CoreNLP jars."""
    spec = importlib.util.find_spec("pycocoevalcap.spice")
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def spice_unavailable_reason():
    """None when SPICE can run; otherwise why not and what to download where.

    pycocoevalcap's Spice() would download CoreNLP itself when the jars are missing, which fails
    offline, so the check happens before it is constructed.
    """
    lib_dir = spice_lib_dir()
    missing = [name for name in CORENLP_JARS if not (lib_dir / name).is_file()]
    if missing:
        return (
            f"Stanford CoreNLP jars {missing} are missing: download {CORENLP_ZIP_URL} and copy "
            f"{' and '.join(CORENLP_JARS)} from it into {lib_dir}/"
        )
    version = java_major_version()
    if version is None or version > NEWEST_SPICE_JAVA:
        return (
            f"SPICE 1.0 needs Java 8 to {NEWEST_SPICE_JAVA} but `java` is version {version}; "
            "put a Java 8 or 11 runtime first on PATH"
        )
    return None
