"""Requests through Django's own WSGI handler, in this thread, as gunicorn makes them.

The test client switches off the signals at the start and end of each request that close a
connection found broken or too old; these requests keep them, so they meet a database
connection as a long-lived web process does.
"""

from dataclasses import dataclass
from http.cookies import SimpleCookie
from io import BytesIO
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


class Browser:
    """Keeps cookies between requests; a POST carries the CSRF token, as a form would."""

    def __init__(self, cookies: dict[str, str] | None = None) -> None:
        self.handler = WSGIHandler()
        self.cookies = dict(cookies or {})

    def get(self, path: str) -> Answer:
        return self._request("GET", path, b"")

    def post(self, path: str, data: dict) -> Answer:
        data = {**data, "csrfmiddlewaretoken": self.cookies[settings.CSRF_COOKIE_NAME]}
        return self._request("POST", path, urlencode(data, doseq=True).encode())

    def _request(self, method: str, path: str, body: bytes) -> Answer:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "HTTP_HOST": "127.0.0.1",
            "SERVER_NAME": "127.0.0.1",
            "wsgi.input": BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
        }
        setup_testing_defaults(environ)
        started: dict = {}

        def start_response(status, headers, exc_info=None):
            started["status"], started["headers"] = int(status.split()[0]), headers

        chunks = self.handler(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            chunks.close()  # the end of the request: request_finished, as a server sends it
        for name, value in started["headers"]:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        return Answer(started["status"], dict(started["headers"]), content.decode())
