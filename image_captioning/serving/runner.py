"""Runs the app under uvicorn on a socket it binds itself (port 0 works), draining on SIGTERM.

SIGTERM or SIGINT: readiness turns false at once, the listening socket closes, requests already
accepted are answered, then the batcher finishes and the process exits 0.
"""

from __future__ import annotations

import signal
import socket
import threading
import time

import uvicorn


class DrainingServer(uvicorn.Server):
    """`uvicorn.Server` that marks the app as draining the moment a stop signal arrives."""

    def __init__(self, config, state):
        super().__init__(config)
        self.state = state

    def handle_exit(self, sig, frame):
        self.state.begin_drain()
        super().handle_exit(sig, frame)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_server(app, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info", announce=None) -> int:
    """Serves `app` until SIGTERM / SIGINT; returns 0 after a graceful drain.

    `announce(url)` is called once the socket is bound (default: print "serving on URL" to stdout),
    so a caller that asked for port 0 learns the port.
    """
    sock = bind_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{'[' + bound_host + ']' if ':' in bound_host else bound_host}:{bound_port}"
    (announce or (lambda u: print(f"serving on {u}", flush=True)))(url)
    # uvicorn re-raises the stop signal once it has drained, under the handlers found at start: these make
    # that re-raise a no-op, so a drained server exits 0 instead of dying of the signal.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda signum, frame: None)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
    server = DrainingServer(config, app.state.server)
    server.run(sockets=[sock])
    return 0 if server.started else 1


class ServerThread:
    """Serves an app from a background thread on a free loopback port (notebooks, tests, benchmarks).

    Args:
        app: the ASGI app (from `create_app`).
        host, port: where to listen (port 0: a free port; see `url`).
        startup_timeout: seconds to wait for start-up (model warm-up included) before giving up.

    Example:
    ```python
    with ServerThread(create_app(engine)) as server:
        httpx.post(server.url + "/v1/captions", files={"image": open("cat.jpg", "rb")})
    ```
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning", startup_timeout: float = 300):
        self.app = app
        self.socket = bind_socket(host, port)
        host, port = self.socket.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
        self.server = DrainingServer(config, app.state.server)
        self.startup_timeout = startup_timeout
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info):
        self.server.should_exit = True
        self.thread.join()
