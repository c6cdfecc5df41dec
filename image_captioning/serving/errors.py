"""`RequestError`: a problem with what a client sent, as an HTTP status and a message naming the fix."""


class RequestError(Exception):
    """A client error answered with `status` and a JSON body `{"error": message}`.

    Args:
        status: the HTTP status (400, 403, 404, 413, 415, 422, 503, ...).
        message: what is wrong, naming the input (part name, file name or JSON field).
        fix: what the client can do about it; appended to the message.
        headers: extra response headers (e.g. `Retry-After`).

    Example:
    ```python
    raise RequestError(415, "content type 'text/plain' is not accepted",
                       "send multipart/form-data, application/json or image/*")
    ```
    """

    def __init__(self, status: int, message: str, fix: str = "", headers: dict | None = None):
        self.status = status
        self.headers = headers or {}
        self.message = f"{message}; {fix}" if fix else message
        super().__init__(self.message)
