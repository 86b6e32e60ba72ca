# The production image: the front end built with Node, then the app on a slim Python.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY static ./static
RUN npm run --silent build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/var/static
WORKDIR /app
# WeasyPrint draws the picture's PDF with Pango, HarfBuzz's subsetter and a font that is there
# (tools/preflight.py installs the same for `make test`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 mash
COPY pyproject.toml README.md ./
COPY core ./core
COPY agencies ./agencies
COPY audit ./audit
COPY enquiries ./enquiries
COPY sharing ./sharing
COPY reports ./reports
COPY mash ./mash
COPY demo ./demo
RUN pip install -e .
COPY manage.py ./
COPY deploy/gunicorn.conf.py ./deploy/
COPY templates ./templates
COPY static ./static
COPY --from=frontend /app/build ./build
COPY --from=frontend /app/node_modules/govuk-frontend/dist ./node_modules/govuk-frontend/dist
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R mash:mash /app/var
USER mash
EXPOSE 8000
# Threads, request time bounded, workers from GUNICORN_WORKERS; meant to sit behind the nginx of
# deploy/nginx/ (docker-compose.yml's proxy), which waits on slow clients in its place.
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "mash.wsgi"]
