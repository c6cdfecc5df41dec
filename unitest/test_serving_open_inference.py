"""The Open Inference Protocol v2 through `tritonclient.http`: health, metadata, and `infer` with a
BYTES tensor of encoded images, binary and JSON outputs, giving the /v1 route's captions."""

import httpx
import numpy as np
import pytest

from image_captioning.serving.app import create_app
from image_captioning.serving.engine import CaptionEngine
from image_captioning.serving.runner import ServerThread
from image_captioning.serving.settings import ServerSettings
from unitest.conftest import SHARED_DATA
from unitest.test_serving_tiny_model import build_tiny_captioner

http = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

PHOTOS = [SHARED_DATA / "images" / name for name in ("apple.jpg", "baboon.jpg", "horse.png")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    captioner = build_tiny_captioner(tmp_path_factory.mktemp("tiny"))
    with ServerThread(create_app(CaptionEngine(captioner), ServerSettings(model_name="captioner"))) as running:
        yield running


@pytest.fixture
def client(server):
    client = http.InferenceServerClient(url=server.url.removeprefix("http://"), network_timeout=120.0)
    yield client
    client.close()


def images_input():
    tensor = http.InferInput("IMAGES", [len(PHOTOS)], "BYTES")
    tensor.set_data_from_numpy(np.array([path.read_bytes() for path in PHOTOS], dtype=object), binary_data=True)
    return tensor


def test_tritonclient_infer_returns_the_v1_captions(server, client):
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("captioner")
    metadata = client.get_model_metadata("captioner")
    assert metadata["inputs"] == [{"name": "IMAGES", "datatype": "BYTES", "shape": [-1]}]
    outputs = [http.InferRequestedOutput("CAPTIONS", binary_data=True), http.InferRequestedOutput("SCORES", binary_data=False)]
    result = client.infer("captioner", [images_input()], outputs=outputs, request_id="r1")
    captions = [text.decode("utf-8") for text in result.as_numpy("CAPTIONS")]
    scores = result.as_numpy("SCORES")
    v1 = httpx.post(server.url + "/v1/captions", timeout=120,
                    files=[("image", (path.name, path.read_bytes(), "image/*")) for path in PHOTOS]).json()["results"]
    assert captions == [item["caption"] for item in v1]
    assert scores.shape == (3,) and np.allclose(scores, [item["score"] for item in v1], rtol=1e-5)
    assert result.get_response()["id"] == "r1"
    everything_binary = client.infer("captioner", [images_input()])  # no outputs named: all of them, binary
    assert [text.decode() for text in everything_binary.as_numpy("CAPTIONS")] == captions


def test_tritonclient_sees_errors_for_unknown_model_and_bad_images(client):
    with pytest.raises(InferenceServerException, match="model 'other' is not served here"):
        client.infer("other", [images_input()])
    bad = http.InferInput("IMAGES", [1], "BYTES")
    bad.set_data_from_numpy(np.array([b"no image here"], dtype=object))
    with pytest.raises(InferenceServerException, match=r"IMAGES\[0\] is not an image"):
        client.infer("captioner", [bad])
    wrong = http.InferInput("PIXELS", [1], "FP32")
    wrong.set_data_from_numpy(np.zeros([1], np.float32))
    with pytest.raises(InferenceServerException, match="input 'PIXELS' .* is not this model's input"):
        client.infer("captioner", [wrong])
    assert client.is_server_ready()
