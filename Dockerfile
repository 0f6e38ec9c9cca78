# deskwatch's own services (processor, sink, demo producer); engines come from docker-compose.yml.
# PYTHON_VERSION equals deskwatch/versions.py (a test checks it).
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

WORKDIR /app
# Only the package sources: the build context holds a virtualenv and caches we must not ship.
COPY pyproject.toml README.md ./
COPY deskwatch ./deskwatch
COPY schemas ./schemas
COPY producers ./producers
COPY processors ./processors
COPY sinks ./sinks
# The services keep their state under /var/lib/deskwatch (processor.datadir, sink.state_dir, …):
# the service user must be able to write there.
RUN pip install --no-cache-dir . \
    && useradd --system --create-home deskwatch \
    && install -d -o deskwatch -g deskwatch /var/lib/deskwatch

USER deskwatch
ENTRYPOINT ["deskwatch"]
CMD ["--help"]
