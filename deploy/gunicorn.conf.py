"""gunicorn's settings for the web service (docs/operations.md "The proxy and gunicorn"):
`gunicorn --config deploy/gunicorn.conf.py mash.wsgi`, behind the nginx of deploy/nginx/.

Threads (`gthread`) rather than one request per process: a request waiting on PostgreSQL or
Redis holds one thread, and the process's other threads go on answering. nginx hands gunicorn
only whole requests and takes whole answers, so no thread waits on a slow client.
"""

import os


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        message = f"mash: configuration error: {name} must be a whole number, not {value!r}"
        raise SystemExit(message) from None


bind = "0.0.0.0:8000"
worker_class = "gthread"
# Processes, and threads in each: 3 x 4 answers twelve requests at once (and holds up to twelve
# database connections, CONN_MAX_AGE keeping each a minute).
workers = _number("GUNICORN_WORKERS", 3)
threads = _number("GUNICORN_THREADS", 4)
# A process whose main loop has not checked in for this long (stuck, not merely busy: its
# threads may take longer) is killed and replaced. nginx gives a client up after 60 s anyway.
timeout = _number("GUNICORN_TIMEOUT", 30)
# On a restart or a deploy, requests under way get this long to finish.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle connection is kept for its next request; nginx opens one per request.
keepalive = 5
accesslog = "-"
