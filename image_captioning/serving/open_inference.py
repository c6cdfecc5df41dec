"""KServe / Triton Open Inference Protocol v2 over HTTP: health, model metadata and `infer`, with the
binary tensor data extension, so `tritonclient.http` can call the server.

The model takes one BYTES input, `IMAGES` (shape [N], each element an encoded image), and returns
`CAPTIONS` (BYTES [N], UTF-8) and `SCORES` (FP32 [N]). Without the binary extension, BYTES input
elements travel in JSON as base64 strings.
"""

from __future__ import annotations

import json
import struct

import numpy as np
from starlette.responses import JSONResponse, Response

from image_captioning.serving.errors import RequestError
from image_captioning.serving.route_table import route_table
from image_captioning.serving.request_inputs import decode_base64, parse_json, read_body

INPUT_NAME = "IMAGES"
OUTPUTS = {"CAPTIONS": "BYTES", "SCORES": "FP32"}
HEADER_LENGTH = "Inference-Header-Content-Length"


def unpack_bytes_tensor(buffer: bytes, count: int, name: str) -> list[bytes]:
    """Triton's BYTES serialisation: each element is a 4-byte little-endian length, then its bytes."""
    elements, offset = [], 0
    while offset < len(buffer):
        if offset + 4 > len(buffer):
            raise RequestError(400, f"input {name}: binary data ends inside an element's length prefix")
        (length,) = struct.unpack_from("<I", buffer, offset)
        offset += 4
        if offset + length > len(buffer):
            raise RequestError(400, f"input {name}: element {len(elements)} declares {length} bytes, past the end of the data")
        elements.append(bytes(buffer[offset : offset + length]))
        offset += length
    if len(elements) != count:
        raise RequestError(400, f"input {name}: shape says {count} elements, the binary data holds {len(elements)}")
    return elements


def pack_bytes_tensor(elements: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(element)) + element for element in elements)


def split_request(body: bytes, header_length) -> tuple[dict, bytes]:
    if header_length is None:
        return parse_json(body), b""
    if not header_length.isdigit() or int(header_length) > len(body):
        raise RequestError(400, f"{HEADER_LENGTH}={header_length!r} does not fit a {len(body)}-byte body")
    return parse_json(body[: int(header_length)]), body[int(header_length) :]


def request_images(document, binary: bytes, max_images: int) -> list[tuple[str, bytes]]:
    inputs = document.get("inputs") if isinstance(document, dict) else None
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise RequestError(400, f"the request needs exactly one input, {INPUT_NAME} (BYTES, shape [N])")
    tensor = inputs[0]
    if tensor.get("name") != INPUT_NAME or tensor.get("datatype") != "BYTES":
        raise RequestError(400, f"input {tensor.get('name')!r} ({tensor.get('datatype')}) is not this model's input",
                           f"send {INPUT_NAME} with datatype BYTES")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise RequestError(400, f"input {INPUT_NAME}: shape must be a list of sizes, got {shape!r}")
    count = int(np.prod(shape)) if shape else 1
    if count == 0:
        raise RequestError(400, f"input {INPUT_NAME} holds no images")
    if count > max_images:
        raise RequestError(413, f"{count} images in one request, above this server's limit of {max_images}")
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size != len(binary):
            raise RequestError(400, f"input {INPUT_NAME}: binary_data_size {size!r} but {len(binary)} bytes follow the JSON")
        elements = unpack_bytes_tensor(binary, count, INPUT_NAME)
    else:
        data = tensor.get("data")
        flat = list(np.asarray(data, dtype=object).reshape(-1)) if isinstance(data, list) else None
        if flat is None or len(flat) != count:
            raise RequestError(400, f"input {INPUT_NAME}: 'data' must list {count} base64 strings")
        elements = [decode_base64(item, f"{INPUT_NAME}[{i}]") for i, item in enumerate(flat)]
    return [(f"{INPUT_NAME}[{i}]", element) for i, element in enumerate(elements)]


def requested_outputs(document) -> list[tuple[str, bool]]:
    """(name, binary?) per output to return; all outputs, binary, when the request names none."""
    default_binary = bool((document.get("parameters") or {}).get("binary_data_output", False))
    outputs = document.get("outputs")
    if not outputs:
        return [(name, default_binary) for name in OUTPUTS]
    chosen = []
    for output in outputs:
        name = output.get("name") if isinstance(output, dict) else None
        if name not in OUTPUTS:
            raise RequestError(400, f"output {name!r} is not one of this model's outputs {sorted(OUTPUTS)}")
        chosen.append((name, bool((output.get("parameters") or {}).get("binary_data", default_binary))))
    return chosen


def infer_response(document, model_name: str, captions: list) -> Response:
    values = {
        "CAPTIONS": [c[0].text.encode("utf-8") for c in captions],
        "SCORES": np.array([c[0].score for c in captions], dtype="<f4"),
    }
    outputs, blobs = [], []
    for name, binary in requested_outputs(document):
        tensor = {"name": name, "datatype": OUTPUTS[name], "shape": [len(captions)]}
        if binary:
            blob = pack_bytes_tensor(values[name]) if name == "CAPTIONS" else values[name].tobytes()
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = [v.decode("utf-8") for v in values[name]] if name == "CAPTIONS" else values[name].tolist()
        outputs.append(tensor)
    header = {"model_name": model_name, "model_version": "1", "outputs": outputs}
    if "id" in document:
        header["id"] = document["id"]
    header_bytes = json.dumps(header).encode("utf-8")
    if not blobs:
        return Response(header_bytes, media_type="application/json")
    return Response(header_bytes + b"".join(blobs), media_type="application/octet-stream",
                    headers={HEADER_LENGTH: str(len(header_bytes))})


def checked_model(request) -> str:
    state = request.app.state.server
    name = request.path_params["model"]
    if name != state.settings.model_name:
        raise RequestError(404, f"model {name!r} is not served here", f"use /v2/models/{state.settings.model_name}")
    version = request.path_params.get("version")
    if version not in (None, "1"):
        raise RequestError(404, f"model {name!r} has no version {version!r}", "use version 1 or none")
    return name


async def server_metadata(request):
    return JSONResponse({"name": "image_captioning", "version": "0.1.0", "extensions": ["binary_tensor_data"]})


async def server_live(request):
    return JSONResponse({"live": True})


async def server_ready(request):
    ready = request.app.state.server.ready
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


async def model_metadata(request):
    return JSONResponse({
        "name": checked_model(request), "versions": ["1"], "platform": "keras_tensorflow",
        "inputs": [{"name": INPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": name, "datatype": datatype, "shape": [-1]} for name, datatype in OUTPUTS.items()],
    })


async def model_ready(request):
    checked_model(request)
    return await server_ready(request)


async def infer(request):
    name = checked_model(request)
    state = request.app.state.server
    body = await read_body(request, state.settings.max_body_bytes)
    document, binary = split_request(body, request.headers.get(HEADER_LENGTH))
    requested_outputs(document if isinstance(document, dict) else {})  # a bad output name fails before the model runs
    images = request_images(document, binary, state.settings.max_images_per_request)
    return infer_response(document, name, await state.caption(images))


ROUTES = route_table(
    get={
        "/v2": server_metadata,
        "/v2/health/live": server_live,
        "/v2/health/ready": server_ready,
        "/v2/models/{model}": model_metadata,
        "/v2/models/{model}/versions/{version}": model_metadata,
        "/v2/models/{model}/ready": model_ready,
    },
    post={"/v2/models/{model}/infer": infer, "/v2/models/{model}/versions/{version}/infer": infer},
)
