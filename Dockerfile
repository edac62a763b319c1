FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scraper ./scraper
COPY storage ./storage
COPY jobs ./jobs
# the Makefile's install steps (`make install`), minus the venv and the editable install:
# tests/test_deploy.py keeps the two in step
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir '.[postgres]'
COPY sources.toml ./
ENV VNNEWS_DB=sqlite:////data/vnnews.db VNNEWS_CONFIG=/app/sources.toml
VOLUME ["/data"]
# `vnnews health` (exit 0 when this daemon's heartbeat is fresh): Docker restarts it otherwise
HEALTHCHECK --interval=60s --timeout=15s --start-period=120s --retries=3 CMD ["vnnews", "health"]
# `run` creates or upgrades the database itself (under a lock); exec form: signals reach it
CMD ["vnnews", "run"]
