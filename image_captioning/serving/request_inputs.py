"""What a request carries, read safely: a size-limited body, and images from multipart, JSON (base64
or a path in the media folder) or raw bodies."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from image_captioning.serving.errors import RequestError
from image_captioning.serving.media_paths import read_media_file, resolve_media_path

IMAGE_CONTENT_TYPES = "multipart/form-data (one file part per image), application/json ({\"images\": [{\"b64\": ...}]}) or image/*"


def media_type(request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the request body is {int(declared)} bytes, above this server's limit of {limit} bytes",
                           "send a smaller file or fewer files per request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the request body exceeds this server's limit of {limit} bytes",
                               "send a smaller file or fewer files per request")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's form() and json() then parse these bytes instead of the spent stream
    if not body:
        raise RequestError(400, "the request body is empty", f"send {IMAGE_CONTENT_TYPES}")
    return body


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(400, f"malformed JSON in the request body ({error})", "send one valid JSON document") from None


async def form_files(request, max_files: int) -> list[tuple[str, bytes, str]]:
    """(name for errors, bytes, client file name) of every file part of a multipart body; a text field is an error."""
    try:
        form = await request.form(max_files=max_files, max_fields=max_files)
    except HTTPException as error:
        raise RequestError(400, f"malformed multipart body ({error.detail})", "send multipart/form-data with a boundary") from None
    files = []
    for field, value in form.multi_items():
        if not isinstance(value, UploadFile):
            raise RequestError(400, f"form field {field!r} is text, not a file", "send each image as a file part")
        files.append((f"part {field!r} ({value.filename or 'no file name'})", await value.read(), value.filename or ""))
    if not files:
        raise RequestError(400, "the multipart body has no file parts", "send one file part per image")
    return files


def decode_base64(text, field: str) -> bytes:
    if not isinstance(text, str):
        raise RequestError(400, f"{field} must be a base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, f"{field} is not valid base64", "encode the file bytes with standard base64") from None


def json_images(document, root: Path | None, max_images: int, limit: int) -> list[tuple[str, bytes]]:
    """(name, bytes) from {"images": [<base64> | {"b64": <base64>, "name": ...} | {"path": <relative path>}]}."""
    images = document.get("images") if isinstance(document, dict) else None
    if not isinstance(images, list) or not images:
        raise RequestError(400, "the JSON body needs a non-empty \"images\" list",
                           'send {"images": [{"b64": "<base64 file bytes>"}]}')
    if len(images) > max_images:
        raise RequestError(413, f"{len(images)} images in one request, above this server's limit of {max_images}",
                           "split them over several requests")
    found = []
    for index, item in enumerate(images):
        field = f"images[{index}]"
        if isinstance(item, str):
            found.append((field, decode_base64(item, field)))
        elif isinstance(item, dict) and "b64" in item:
            found.append((f"{field} ({item.get('name', 'no name')})", decode_base64(item["b64"], f"{field}.b64")))
        elif isinstance(item, dict) and "path" in item:
            path = resolve_media_path(root, item["path"], f"{field}.path")
            found.append((f"{field} ({item['path']})", read_media_file(path, f"{field}.path", limit)))
        else:
            raise RequestError(400, f"{field} must be a base64 string, {{\"b64\": ...}} or {{\"path\": ...}}")
    return found


async def image_inputs(request, body: bytes, root: Path | None, max_images: int, limit: int) -> list[tuple[str, bytes]]:
    """Every image a /v1/captions request carries, as (name for errors, encoded bytes)."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        files = [(name, data) for name, data, _ in await form_files(request, max_images)]
    elif kind == "application/json":
        files = json_images(parse_json(body), root, max_images, limit)
    elif kind.startswith("image/") or kind == "application/octet-stream":
        files = [("request body", body)]
    else:
        raise RequestError(415, f"content type {kind or '(none)'!r} is not accepted here", f"send {IMAGE_CONTENT_TYPES}")
    if len(files) > max_images:
        raise RequestError(413, f"{len(files)} images in one request, above this server's limit of {max_images}",
                           "split them over several requests")
    return files
