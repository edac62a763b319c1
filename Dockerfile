FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scraper ./scraper
COPY storage ./storage
COPY jobs ./jobs
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir '.[postgres]'
COPY sources.toml ./
ENV VNNEWS_DB=sqlite:////data/vnnews.db VNNEWS_CONFIG=/app/sources.toml
VOLUME ["/data"]
# migrate, then run the daemon in the foreground (signals reach it: exec form)
CMD ["sh", "-c", "vnnews db upgrade && exec vnnews run"]
