# Production image: build wheels in one stage, run as a non-root user in the next.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip
COPY pyproject.toml README.md alembic.ini ./
COPY agent_orchestrator ./agent_orchestrator
COPY migrations ./migrations
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -e .

FROM python:3.11-slim-bookworm
# /data/files is made here, owned by the service's user: a named volume mounted on it
# (docker-compose.yml) starts with that owner, so the API and workers can write it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-fin \
      tesseract-ocr-eng libvoikko1 voikko-fi curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 orchestrator \
 && mkdir -p /data/files && chown orchestrator:orchestrator /data/files
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=orchestrator:orchestrator /src /src
WORKDIR /src
USER orchestrator
ENV PATH=/opt/venv/bin:$PATH PORT=8000 AGENT_FILES_DIR=/data/files AGENT_ENV=production
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:${PORT}/health || exit 1
CMD ["sh", "-c", "agent-orchestrator migrate && agent-orchestrator serve --host 0.0.0.0 --port ${PORT} --no-bootstrap-key"]
