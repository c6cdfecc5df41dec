"""`route_table`: Starlette routes from a table of paths per HTTP method."""

from starlette.routing import Route


def route_table(get: dict | None = None, post: dict | None = None) -> list[Route]:
    """Routes for `{path: endpoint}` tables, one per method.

    Example:
    ```python
    ROUTES = route_table(get={"/healthz": live}, post={"/v1/captions": caption_images})
    ```
    """
    tables = {"GET": get or {}, "POST": post or {}}
    return [Route(path, endpoint, methods=[method]) for method, table in tables.items() for path, endpoint in table.items()]
