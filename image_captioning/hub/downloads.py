"""Downloads a file once into a cache folder, checking its sha256; works with http(s) and file:// URLs."""

import hashlib
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

CHUNK_BYTES = 1 << 20


class DownloadError(RuntimeError):
    """A file could not be fetched (offline, bad URL) or failed its checksum."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_download(url, cache_dir, filename, sha256=None, progress=True):
    """Returns `cache_dir/filename`, downloading `url` there first unless a verified copy exists.

    A partial download is written beside the target and renamed only once complete and verified,
    so an interrupted download never leaves a corrupt file that looks finished.
    """
    target = Path(cache_dir) / filename
    if target.is_file() and (sha256 is None or sha256_of(target) == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=filename, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise DownloadError(
            f"Could not download {filename} from {url} ({error}). If this machine is offline, download "
            f"it elsewhere and put it at {target}, or pass the local file's path."
        ) from error
    if sha256 is not None and (actual := sha256_of(partial)) != sha256:
        partial.unlink()
        raise DownloadError(f"{filename} from {url} has sha256 {actual}, expected {sha256}: the download is corrupt.")
    shutil.move(partial, target)
    return target
