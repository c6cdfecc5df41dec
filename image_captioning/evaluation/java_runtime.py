"""Finds the Java runtime that the COCO caption tools (PTBTokenizer, METEOR, SPICE) start."""

import functools
import re
import shutil
import subprocess

INSTALL_HINT = "install a Java runtime (e.g. `apt-get install default-jre-headless`) and put `java` on PATH"


def require_java():
    """Raises RuntimeError with an install hint when `java` is not on PATH."""
    if shutil.which("java") is None:
        raise RuntimeError(f"the COCO caption metrics run Java (PTBTokenizer, METEOR) but `java` is not on PATH: {INSTALL_HINT}")


@functools.lru_cache(maxsize=None)
def java_major_version():
    """8 for "1.8.0_312", 17 for "17.0.15"; None when Java is missing or unparsable."""
    if shutil.which("java") is None:
        return None
    completed = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return minor if major == 1 else major
