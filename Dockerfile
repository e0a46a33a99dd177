# The Specloom language server for a team: WebSocket mode, behind a token.
#   docker build -t specloom .    (or: docker compose up, see docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 specloom
WORKDIR /opt/specloom
COPY pyproject.toml README.md ./
COPY core ./core
COPY server ./server
# the app extra: generated applications are verified with this interpreter
RUN pip install '.[app]' 'pygls[ws]'

USER specloom
WORKDIR /workspaces
EXPOSE 8765
# 0.0.0.0 inside the container; the server refuses to start without SPECLOOM_SERVER_TOKEN
CMD ["specloom", "lsp", "--ws", "0.0.0.0:8765"]
