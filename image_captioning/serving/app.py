"""`create_app`: the Starlette application of the captioning server."""

from __future__ import annotations

import contextlib
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from image_captioning.serving import open_inference, routes_captions
from image_captioning.serving.errors import RequestError
from image_captioning.serving.metrics import MetricsMiddleware
from image_captioning.serving.settings import ServerSettings
from image_captioning.serving.state import ServerState

logger = logging.getLogger("image_captioning.serving")


async def request_error(request, error: RequestError):
    return JSONResponse({"error": error.message}, status_code=error.status, headers=error.headers)


async def http_error(request, error: HTTPException):
    return JSONResponse({"error": f"{request.method} {request.url.path}: {error.detail}"}, status_code=error.status_code,
                        headers=getattr(error, "headers", None))


async def unexpected_error(request, error: Exception):
    logger.exception("unexpected error answering %s %s", request.method, request.url.path)
    return JSONResponse({"error": f"internal error ({type(error).__name__}); the server logged it"}, status_code=500)


def create_app(engine, settings: ServerSettings | None = None, warm_up: bool = True) -> Starlette:
    """The ASGI app serving `engine` (a `CaptionEngine`); run it with uvicorn (see `serving.runner`).

    Args:
        engine: the `CaptionEngine` to serve.
        settings: batching, limits and names (`ServerSettings`).
        warm_up: trace every batch size up to max_batch_size at start-up, before readiness turns true.

    Example:
    ```python
    app = create_app(CaptionEngine(ClipCap.from_pretrained("clipcap-coco")), ServerSettings(max_batch_size=16))
    uvicorn.run(app, port=8080)
    ```
    """
    state = ServerState(engine, settings or ServerSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(state.open, warm_up)
        yield
        await run_in_threadpool(state.close)

    app = Starlette(
        routes=routes_captions.ROUTES + open_inference.ROUTES,
        middleware=[Middleware(MetricsMiddleware, metrics=state.metrics)],
        exception_handlers={RequestError: request_error, HTTPException: http_error, Exception: unexpected_error},
        lifespan=lifespan,
    )
    app.state.server = state
    return app
