"""/v1 routes: caption images (multipart, JSON base64 or a raw image body) and videos (JSON, SRT, VTT);
liveness, readiness and metrics."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from image_captioning.media.extensions import VIDEO_EXTENSIONS
from image_captioning.outputs.subtitles import srt_text, vtt_text
from image_captioning.serving.errors import RequestError
from image_captioning.serving.media_paths import resolve_media_path
from image_captioning.serving.route_table import route_table
from image_captioning.serving.request_inputs import form_files, image_inputs, media_type, parse_json, read_body

VIDEO_TYPES = {"video/mp4": ".mp4", "video/x-msvideo": ".avi", "video/avi": ".avi", "video/quicktime": ".mov",
               "video/x-matroska": ".mkv", "video/webm": ".webm", "video/mpeg": ".mpg", "video/x-m4v": ".m4v"}
VIDEO_FORMATS = {"json", "srt", "vtt"}


def caption_json(name: str, captions) -> dict:
    return {"name": name, "caption": captions[0].text, "score": float(captions[0].score),
            "captions": [caption.to_dict() for caption in captions]}


async def caption_images(request):
    state = request.app.state.server
    body = await read_body(request, state.settings.max_body_bytes)
    settings = state.settings
    files = await image_inputs(request, body, settings.media_root, settings.max_images_per_request, settings.max_body_bytes)
    results = await state.caption(files)
    return JSONResponse({"results": [caption_json(name, captions) for (name, _), captions in zip(files, results)]})


def video_sampling(query):
    from image_captioning.media.frame_sampling import FrameSampling

    try:
        if query.get("scenes", "").lower() in ("1", "true", "yes"):
            return FrameSampling(mode="scenes")
        if "every" in query:
            return FrameSampling(mode="interval", interval=float(query["every"]))
        return FrameSampling(mode="uniform", num_frames=int(query.get("frames", 8)))
    except ValueError as error:
        raise RequestError(400, f"bad frame sampling in the query string ({error})",
                           "use frames=<int >= 1>, every=<seconds > 0> or scenes=1") from None


async def video_upload(request, state) -> tuple[str, Path, bool]:
    """(name, file, is_temporary): the uploaded video written into the server's upload folder, or a media path."""
    body = await read_body(request, state.settings.max_body_bytes)
    kind = media_type(request)
    if kind == "application/json":
        document = parse_json(body)
        relative = document.get("path") if isinstance(document, dict) else None
        return relative, resolve_media_path(state.settings.media_root, relative, "path"), False
    if kind == "multipart/form-data":
        files = await form_files(request, 1)
        name, data, filename = files[0]
        suffix = Path(filename).suffix.lower()
        if suffix not in VIDEO_EXTENSIONS:
            raise RequestError(415, f"{name} does not have a video file extension",
                               f"name the file with one of {sorted(VIDEO_EXTENSIONS)}")
    elif kind in VIDEO_TYPES:
        name, data, suffix = "request body", body, VIDEO_TYPES[kind]
    else:
        raise RequestError(415, f"content type {kind or '(none)'!r} is not accepted for videos",
                           f"send multipart/form-data with one video file, one of {sorted(VIDEO_TYPES)}, "
                           "or application/json {\"path\": ...}")
    # The file name is ours (mkstemp in our folder); nothing the client sent reaches the path but the suffix,
    # and that only from the fixed list of video extensions.
    handle, path = tempfile.mkstemp(suffix=suffix, dir=state.upload_dir)
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return name, Path(path), True


async def caption_video(request):
    state = request.app.state.server
    output = request.query_params.get("format", "json").lower()
    if output not in VIDEO_FORMATS:
        raise RequestError(400, f"format={output!r} is not a video output", f"use one of {sorted(VIDEO_FORMATS)}")
    sampling = video_sampling(request.query_params)
    if state.video_slots.locked():
        raise state.overloaded("the server is already captioning its maximum number of videos")
    async with state.video_slots:
        name, path, temporary = await video_upload(request, state)
        try:
            result = await run_in_threadpool(state.engine.caption_video, path, sampling)
        finally:
            if temporary:
                path.unlink(missing_ok=True)
    result.source = name
    if not result.ok:
        raise RequestError(422, str(result.error).replace(str(path), name),
                           "send a complete video file that OpenCV can decode")
    if output == "srt":
        return PlainTextResponse(srt_text(result), media_type="application/x-subrip")
    if output == "vtt":
        return PlainTextResponse(vtt_text(result), media_type="text/vtt")
    return JSONResponse(result.to_dict())


async def live(request):
    return JSONResponse({"status": "alive"})


async def ready(request):
    state = request.app.state.server
    if state.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "draining" if state.draining else "starting"}, status_code=503)


async def metrics(request):
    body, content_type = request.app.state.server.metrics.exposition()
    return Response(body, media_type=content_type)


ROUTES = route_table(
    get={"/healthz": live, "/readyz": ready, "/metrics": metrics},
    post={"/v1/captions": caption_images, "/v1/videos": caption_video},
)
