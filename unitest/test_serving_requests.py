"""Every kind of bad request gets a 4xx naming the problem, and the server keeps serving; client-named
paths stay inside the media folder; uploaded videos come back as JSON, SRT or VTT."""

import base64
import json

import httpx
import pytest

from image_captioning.serving.app import create_app
from image_captioning.serving.runner import ServerThread
from image_captioning.serving.settings import ServerSettings
from unitest.conftest import SHARED_DATA
from unitest.test_serving_tiny_model import build_tiny_captioner

LIMIT = 2 << 20
JPEG = (SHARED_DATA / "images" / "apple.jpg").read_bytes()
VIDEO = (SHARED_DATA / "videos" / "tree.avi").read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from image_captioning.serving.engine import CaptionEngine

    media = tmp_path_factory.mktemp("media")
    (media / "photos").mkdir()
    (media / "photos" / "apple.jpg").write_bytes(JPEG)
    (media / "escape.jpg").symlink_to(SHARED_DATA / "images" / "orange.jpg")  # points out of the folder
    uploads = tmp_path_factory.mktemp("uploads")
    captioner = build_tiny_captioner(tmp_path_factory.mktemp("tiny"))
    settings = ServerSettings(max_body_bytes=LIMIT, max_images_per_request=4, max_queue=16, media_root=media, upload_dir=uploads)
    with ServerThread(create_app(CaptionEngine(captioner), settings)) as running:
        running.uploads = uploads
        yield running


def captions(server, **request):
    return httpx.post(server.url + "/v1/captions", timeout=120, **request)


BAD_REQUESTS = {
    "not an image": (dict(content=b"GIF89a? no, plain text", headers={"content-type": "image/png"}), 400, "is not an image"),
    "truncated file": (dict(content=JPEG[: len(JPEG) // 3], headers={"content-type": "image/jpeg"}), 400, "truncated or corrupt"),
    "empty body": (dict(content=b"", headers={"content-type": "image/jpeg"}), 400, "request body is empty"),
    "wrong content type": (dict(content=JPEG, headers={"content-type": "text/plain"}), 415, "'text/plain' is not accepted"),
    "oversize upload": (dict(content=b"\xff" * (LIMIT + 1), headers={"content-type": "image/jpeg"}), 413, "above this server's limit"),
    "malformed JSON": (dict(content=b'{"images": [', headers={"content-type": "application/json"}), 400, "malformed JSON"),
    "JSON without images": (dict(json={"image": "x"}), 400, 'needs a non-empty "images" list'),
    "bad base64": (dict(json={"images": ["not base64!"]}), 400, "images[0] is not valid base64"),
    "empty image in JSON": (dict(json={"images": [{"b64": "", "name": "blank.png"}]}), 400, "(blank.png) is empty"),
    "too many images": (dict(json={"images": [base64.b64encode(JPEG).decode()] * 5}), 413, "5 images in one request"),
    "text form field": (dict(data={"caption": "hello"}, files={"image": ("a.jpg", JPEG, "image/jpeg")}), 400, "form field 'caption' is text"),
    "path escaping with ..": (dict(json={"images": [{"path": "../../../etc/passwd"}]}), 403, "outside the media folder"),
    "absolute path": (dict(json={"images": [{"path": "/etc/passwd"}]}), 403, "is absolute"),
    "symlink out of the folder": (dict(json={"images": [{"path": "escape.jpg"}]}), 403, "outside the media folder"),
    "missing path": (dict(json={"images": [{"path": "photos/none.jpg"}]}), 404, "is not a file in the media folder"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_image_request_gets_a_4xx_naming_the_problem(server, case):
    request, status, message = BAD_REQUESTS[case]
    response = captions(server, **request)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


BAD_VIDEOS = {
    "video with no frames": (dict(files={"video": ("clip.mp4", b"\x00" * 4096, "video/mp4")}), 422, "clip.mp4"),
    "video without a video extension": (dict(files={"video": ("clip.txt", VIDEO, "video/x-msvideo")}), 415, "video file extension"),
    "video as the wrong content type": (dict(content=VIDEO, headers={"content-type": "text/csv"}), 415, "not accepted for videos"),
    "unknown output format": (dict(params={"format": "docx"}, files={"video": ("tree.avi", VIDEO, "video/x-msvideo")}), 400, "format='docx'"),
    "bad frame count": (dict(params={"frames": "many"}, files={"video": ("tree.avi", VIDEO, "video/x-msvideo")}), 400, "frames="),
    "video path out of the folder": (dict(json={"path": "../x.avi"}), 403, "outside the media folder"),
}


@pytest.mark.parametrize("case", BAD_VIDEOS, ids=list(BAD_VIDEOS))
def test_bad_video_request_gets_a_4xx_naming_the_problem(server, case):
    request, status, message = BAD_VIDEOS[case]
    response = httpx.post(server.url + "/v1/videos", timeout=120, **request)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_server_keeps_serving_after_bad_requests(server):
    for request, _, _ in BAD_REQUESTS.values():
        captions(server, **request)
    assert httpx.get(server.url + "/readyz").status_code == 200
    by_upload = captions(server, files={"image": ("apple.jpg", JPEG, "image/jpeg")})
    by_path = captions(server, json={"images": [{"path": "photos/apple.jpg"}, base64.b64encode(JPEG).decode()]})
    raw = captions(server, content=JPEG, headers={"content-type": "image/jpeg"})
    assert by_upload.status_code == by_path.status_code == raw.status_code == 200
    texts = [result["caption"] for response in (by_upload, by_path, raw) for result in response.json()["results"]]
    assert len(texts) == 4 and len(set(texts)) == 1 and texts[0]


def test_video_upload_returns_segments_as_json_srt_and_vtt_and_leaves_no_file(server):
    upload = {"files": {"video": ("../../outside.avi", VIDEO, "video/x-msvideo")}, "timeout": 300}
    as_json = httpx.post(server.url + "/v1/videos", params={"frames": 3}, **upload)
    srt = httpx.post(server.url + "/v1/videos", params={"frames": 3, "format": "srt"}, **upload)
    vtt = httpx.post(server.url + "/v1/videos", params={"every": 2, "format": "vtt"}, **upload)
    assert as_json.status_code == srt.status_code == vtt.status_code == 200
    result = as_json.json()
    assert len(result["segments"]) == 3 and result["caption"]["text"] and "outside.avi" in result["source"]
    assert srt.text.startswith("1\n00:00:") and srt.text.count("-->") == 3
    assert vtt.text.startswith("WEBVTT") and "00:00:00.000 --> 00:00:02.000" in vtt.text
    # The client's file name never became a path: nothing outside the upload folder, nothing left in it.
    assert not (server.uploads.parent / "outside.avi").exists() and not (server.uploads.parent.parent / "outside.avi").exists()
    assert list(server.uploads.iterdir()) == []


def test_unknown_routes_and_methods_answer_json_errors(server):
    missing = httpx.get(server.url + "/v1/nothing")
    wrong_method = httpx.get(server.url + "/v1/captions")
    assert missing.status_code == 404 and "/v1/nothing" in missing.json()["error"]
    assert wrong_method.status_code == 405 and json.loads(wrong_method.text)["error"]
