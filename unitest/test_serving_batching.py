"""Dynamic batching and overload over real HTTP on loopback: requests held behind a busy model are
merged into one batch; a full queue answers 503 with Retry-After and loses no accepted request."""

import concurrent.futures
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from image_captioning.serving.app import create_app
from image_captioning.serving.runner import ServerThread
from image_captioning.serving.settings import ServerSettings
from unitest.conftest import SHARED_DATA
from unitest.test_serving_tiny_model import GatedEngine, build_tiny_captioner, metric_value

WAIT = 120  # seconds a test waits for an event before failing; never an assertion on speed


@pytest.fixture(scope="module")
def captioner(tmp_path_factory):
    return build_tiny_captioner(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def photos():
    return [(path.name, path.read_bytes()) for path in sorted((SHARED_DATA / "images").glob("*.jpg"))]


def post_image(url, name, data):
    return httpx.post(url + "/v1/captions", files={"image": (name, data, "image/jpeg")}, timeout=WAIT)


def held_requests(server, engine, pool, requests):
    """Starts one request that the closed gate holds inside the model, then `requests` more behind it."""
    engine.gate.clear()
    engine.entered.clear()
    first = pool.submit(post_image, server.url, *requests[0])
    assert engine.entered.wait(WAIT), "the first request never reached the model"
    return first, [pool.submit(post_image, server.url, *request) for request in requests[1:]]


def test_concurrent_requests_are_merged_into_one_batch(captioner, photos):
    engine = GatedEngine(captioner)
    app = create_app(engine, ServerSettings(max_batch_size=8, max_wait_ms=50))
    waiting = 6
    requests = [photos[i % len(photos)] for i in range(waiting + 1)]
    with ServerThread(app) as server, concurrent.futures.ThreadPoolExecutor(waiting + 1) as pool:
        first, rest = held_requests(server, engine, pool, requests)
        assert app.state.server.batcher.wait_for_depth(waiting, timeout=WAIT)
        before = httpx.get(server.url + "/metrics").text
        assert metric_value(before, "captioning_queue_depth") == waiting
        engine.gate.set()
        responses = [first.result()] + [future.result() for future in rest]
        after = httpx.get(server.url + "/metrics").text
    assert [response.status_code for response in responses] == [200] * (waiting + 1)
    # The six waiting requests went through the model as one batch of six.
    assert metric_value(after, "captioning_batch_size_count") - metric_value(before, "captioning_batch_size_count") == 1
    assert metric_value(after, "captioning_batch_size_sum") - metric_value(before, "captioning_batch_size_sum") == waiting
    assert metric_value(after, "captioning_queue_depth") == 0
    # Batching does not change anyone's caption: each matches predict on the same file.
    expected = {name: captioner.predict(decoded(data))[0].caption.text for name, data in set(requests)}
    for (name, _), response in zip(requests, responses):
        assert response.json()["results"][0]["caption"] == expected[name]


def decoded(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_full_queue_answers_503_with_retry_after_and_loses_no_accepted_request(captioner, photos):
    engine = GatedEngine(captioner)
    settings = ServerSettings(max_batch_size=2, max_wait_ms=0, max_queue=4, max_images_per_request=4, retry_after_s=3)
    app = create_app(engine, settings, warm_up=False)
    accepted_count, rejected_count = 4, 3
    with ServerThread(app) as server, concurrent.futures.ThreadPoolExecutor(8) as pool:
        first, accepted = held_requests(server, engine, pool, [photos[0]] * (accepted_count + 1))
        assert app.state.server.batcher.wait_for_depth(accepted_count, timeout=WAIT)
        rejected = [post_image(server.url, *photos[1]) for _ in range(rejected_count)]
        two_images = httpx.post(server.url + "/v1/captions", timeout=WAIT,
                                files=[("a", (photos[0][0], photos[0][1], "image/jpeg")), ("b", (photos[1][0], photos[1][1], "image/jpeg"))])
        engine.gate.set()
        answered = [first.result()] + [future.result() for future in accepted]
        metrics = httpx.get(server.url + "/metrics").text
    for response in rejected + [two_images]:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "3"
        assert "queue is full" in response.json()["error"]
    assert [response.status_code for response in answered] == [200] * (accepted_count + 1)
    assert len({response.json()["results"][0]["caption"] for response in answered}) == 1  # same photo, same caption
    assert metric_value(metrics, "captioning_requests_total", route="/v1/captions", status="503") == rejected_count + 1
    assert metric_value(metrics, "captioning_images_total") == accepted_count + 1
