"""A Hugging Face Hub stand-in on loopback, speaking the HTTP the real `huggingface_hub` client uses.

Downloads: `HEAD`/`GET /{repo}/resolve/{revision}/{path}` with `X-Repo-Commit`, `ETag`, `Content-Length`, and
`X-Error-Code` on 404s (which the client turns into `RepositoryNotFoundError` etc.); `GET /api/models/{repo}/revision/{rev}`.
Uploads: `POST /api/repos/create`, `/api/models/{repo}/preupload/{rev}` (always answering "regular", so every file
travels base64-encoded inside the commit: the LFS/Xet transfer the real Hub asks for on large files is not served),
and `/api/models/{repo}/commit/{rev}` (NDJSON).
"""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class HubRepos:
    """Repositories as commits (sha -> {path: bytes}) and refs (branch or tag -> sha).

    Args:
        none: starts empty; `create`, `commit` and `tag` fill it, the handler's uploads too.

    Example:
    ```python
    repos = HubRepos()
    repos.create("owner/demo")
    sha = repos.commit("owner/demo", {"config.json": b"{}"})
    repos.tag("owner/demo", "v1", sha)
    assert repos.resolve("owner/demo", "v1") == (sha, {"config.json": b"{}"})
    ```
    """

    def __init__(self):
        self.repos = {}
        self.lock = threading.Lock()

    def create(self, repo_id):
        with self.lock:
            if repo_id in self.repos:
                return False
            self.repos[repo_id] = {"refs": {}, "commits": {}}
            return True

    def commit(self, repo_id, files, branch="main", message=""):
        """Adds or replaces `files` ({path: bytes}) on `branch`; returns the new commit's sha."""
        with self.lock:
            repo = self.repos[repo_id]
            parent = repo["refs"].get(branch)
            tree = {**repo["commits"].get(parent, {}), **files}
            sha = hashlib.sha1(json.dumps([parent, message, sorted((p, hashlib.sha1(b).hexdigest()) for p, b in tree.items())]).encode()).hexdigest()
            repo["commits"][sha] = tree
            repo["refs"][branch] = sha
            return sha

    def tag(self, repo_id, name, sha):
        self.repos[repo_id]["refs"][name] = sha

    def resolve(self, repo_id, revision):
        """(sha, files) of `revision` (a ref or a full sha); raises KeyError with the Hub's error code."""
        repo = self.repos.get(repo_id)
        if repo is None:
            raise KeyError("RepoNotFound")
        sha = repo["refs"].get(revision, revision)
        if sha not in repo["commits"]:
            raise KeyError("RevisionNotFound")
        return sha, repo["commits"][sha]


class HubHandler(BaseHTTPRequestHandler):
    """Serves the routes listed in the module docstring; `HubServer` subclasses it to bind its store and log.

    Args:
        repos: (class attribute) the `HubRepos` served.
        requests: (class attribute) a list each call is appended to, as {method, path, authorization}.

    Example:
    ```python
    handler = type("Handler", (HubHandler,), {"repos": HubRepos(), "requests": []})
    ThreadingHTTPServer(("127.0.0.1", 0), handler).serve_forever()
    ```
    """

    repos: HubRepos
    requests: list

    def log_message(self, *args):
        pass

    def _record(self):
        self.requests.append({"method": self.command, "path": self.path, "authorization": self.headers.get("Authorization")})
        return urlsplit(self.path).path.strip("/").split("/")

    def _send(self, status, body=b"", headers=None, content_type="application/json"):
        self.send_response(status)
        for key, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code, message, headers=None):
        self._send(status, json.dumps({"error": message}).encode(), {"X-Error-Code": code, "X-Error-Message": message, **(headers or {})})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self._record()
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._resolve("/".join(parts[:2]), unquote(parts[3]), unquote("/".join(parts[4:])))
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
            return self._repo_info("/".join(parts[2:4]), unquote(parts[5]))
        self._error(404, "NotFound", f"no route {self.path}")

    def _resolve(self, repo_id, revision, path):
        try:
            sha, files = self.repos.resolve(repo_id, revision)
        except KeyError as error:
            return self._error(404, error.args[0], f"{repo_id}@{revision}: {error.args[0]}")
        if path not in files:
            return self._error(404, "EntryNotFound", f"{path} not in {repo_id}@{revision}", {"X-Repo-Commit": sha})
        body = files[path]
        self._send(200, body, {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha256(body).hexdigest()}"'}, "application/octet-stream")

    def _repo_info(self, repo_id, revision):
        try:
            sha, files = self.repos.resolve(repo_id, revision)
        except KeyError as error:
            return self._error(404, error.args[0], f"{repo_id}@{revision}: {error.args[0]}")
        info = {"id": repo_id, "modelId": repo_id, "sha": sha, "private": False, "siblings": [{"rfilename": p} for p in sorted(files)]}
        self._send(200, json.dumps(info).encode())

    def do_POST(self):
        parts = self._record()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts == ["api", "repos", "create"]:
            request = json.loads(body)
            repo_id = f"{request['organization']}/{request['name']}"
            url = {"url": f"http://{self.headers['Host']}/{repo_id}"}  # the Hub sends it on 409 too; the client reads it
            if not self.repos.create(repo_id):
                return self._send(409, json.dumps({"error": "You already created this model repo", **url}).encode())
            return self._send(200, json.dumps(url).encode())
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] in ("preupload", "commit"):
            repo_id = "/".join(parts[2:4])
            if repo_id not in self.repos.repos:
                return self._error(404, "RepoNotFound", f"{repo_id} not found")
            if parts[4] == "preupload":
                files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in json.loads(body)["files"]]
                return self._send(200, json.dumps({"files": files}).encode())
            return self._commit(repo_id, unquote(parts[5]), [json.loads(line) for line in body.splitlines() if line.strip()])
        self._error(404, "NotFound", f"no route {self.path}")

    def _commit(self, repo_id, branch, items):
        files, message = {}, ""
        for item in items:
            if item["key"] == "header":
                message = item["value"]["summary"]
            elif item["key"] == "file" and item["value"].get("encoding") == "base64":
                files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            else:
                return self._error(400, "BadRequest", f"this stand-in accepts only base64 files, not {item['key']}")
        sha = self.repos.commit(repo_id, files, branch, message)
        url = f"http://{self.headers['Host']}/{repo_id}/commit/{sha}"
        self._send(200, json.dumps({"commitUrl": url, "commitOid": sha, "success": True}).encode())


class HubServer:
    """Serves `repos` at `url` (loopback, a free port) from a thread; `requests` logs every call.

    Args:
        none: the port is chosen by the system; the store starts empty.

    Example:
    ```python
    with HubServer() as server:
        server.repos.create("owner/demo")
        os.environ["HF_ENDPOINT"] = server.url   # before huggingface_hub.constants is (re)loaded
    ```
    """

    def __init__(self):
        self.repos, self.requests = HubRepos(), []
        handler = type("Handler", (HubHandler,), {"repos": self.repos, "requests": self.requests})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
