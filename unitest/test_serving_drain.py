"""SIGTERM: the server stops taking new work, answers every request it had accepted, exits 0."""

import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap

import httpx
import pytest

from unitest.conftest import PROJECT_ROOT, SHARED_DATA
from unitest.test_serving_tiny_model import build_tiny_captioner, metric_value

WAIT = 180  # seconds a step may take before the test gives up; never an assertion on speed

# The server process: the real CLI code path (run_server) with a model whose batches wait at a
# gate until the drain begins, so requests are certainly in flight when SIGTERM arrives.
LAUNCHER = textwrap.dedent(
    """
    import sys
    from image_captioning import ClipCap
    from image_captioning.serving.app import create_app
    from image_captioning.serving.runner import run_server
    from image_captioning.serving.settings import ServerSettings
    from unitest.test_serving_tiny_model import GatedEngine

    engine = GatedEngine(ClipCap.from_pretrained(sys.argv[1]))
    engine.gate.clear()
    app = create_app(engine, ServerSettings(max_batch_size=8), warm_up=False)
    state = app.state.server
    begin_drain = state.begin_drain
    state.begin_drain = lambda: (begin_drain(), engine.gate.set())
    sys.exit(run_server(app, port=0, log_level="info"))
    """
)


def wait_until(predicate, what):
    # Polls a condition the server reports; fails after WAIT seconds (how long it takes is not tested).
    import time

    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_sigterm_drains_in_flight_requests_and_exits_zero(tmp_path):
    build_tiny_captioner(tmp_path / "tiny")
    (tmp_path / "launch.py").write_text(LAUNCHER)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([sys.executable, str(tmp_path / "launch.py"), str(tmp_path / "tiny")], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip().removeprefix("serving on ")
        assert url.startswith("http://127.0.0.1:"), url
        photo = (SHARED_DATA / "images" / "apple.jpg").read_bytes()
        in_flight = 3
        with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
            # Connections wait in the listen backlog until start-up ends, then are served.
            futures = [pool.submit(httpx.post, url + "/v1/captions", files={"image": ("apple.jpg", photo, "image/jpeg")},
                                   timeout=WAIT) for _ in range(in_flight)]
            # Every request is inside the app (the /metrics request itself is the +1).
            wait_until(lambda: metric_value(httpx.get(url + "/metrics", timeout=WAIT).text,
                                            "captioning_requests_in_progress") == in_flight + 1, "requests in flight")
            assert not any(future.done() for future in futures)  # the gate holds them
            process.send_signal(signal.SIGTERM)
            responses = [future.result() for future in futures]
        assert process.wait(timeout=WAIT) == 0, process.stderr.read()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    assert [response.status_code for response in responses] == [200] * in_flight
    assert len({response.json()["results"][0]["caption"] for response in responses}) == 1
    with pytest.raises(httpx.ConnectError):  # and nothing listens any more
        httpx.get(url + "/healthz", timeout=WAIT)
    assert "Shutting down" in process.stderr.read()


def test_serve_command_answers_and_exits_zero_on_sigterm(tmp_path):
    build_tiny_captioner(tmp_path / "tiny")
    command = [sys.executable, "-c", "import sys; from image_captioning.cli import main; sys.exit(main(sys.argv[1:]))",
               "serve", str(tmp_path / "tiny"), "--port", "0", "--max-batch-size", "4", "--max-upload-mb", "0.5",
               "--model-name", "tiny", "--strategy", "beam", "--beams", "2"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip().removeprefix("serving on ")
        assert httpx.get(url + "/readyz", timeout=WAIT).status_code == 200
        photo = (SHARED_DATA / "images" / "apple.jpg").read_bytes()
        answer = httpx.post(url + "/v1/captions", files={"image": ("apple.jpg", photo, "image/jpeg")}, timeout=WAIT)
        too_big = httpx.post(url + "/v1/captions", content=b"\xff" * (1 << 20), headers={"content-type": "image/jpeg"}, timeout=WAIT)
        model = httpx.get(url + "/v2/models/tiny", timeout=WAIT)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 0, process.stderr.read()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    assert answer.status_code == 200 and len(answer.json()["results"][0]["captions"]) == 2  # beam 2: both beams
    assert too_big.status_code == 413 and "524288 bytes" in too_big.json()["error"]
    assert model.status_code == 200 and model.json()["name"] == "tiny"
