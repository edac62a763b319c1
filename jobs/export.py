"""Exports of the archive: JSON lines, CSV, Parquet (typed) and WARC 1.1, streamed to a file.

Each writer takes the records of ``storage.export`` one at a time and never holds more than a
batch. WARC holds the archived HTTP exchanges themselves: for each article's page a request
record and a response record with the stored status, headers and the raw body, byte for
byte (the body was stored decoded, so Content-Encoding and Transfer-Encoding are dropped).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from scraper.errors import VnnewsError
from storage import bodies
from storage.export import FIELDS, article_pages, article_records

FORMATS = ("jsonl", "csv", "parquet", "warc")
#: headers that described the bytes on the wire, not the decoded body we stored
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}

#: where the export extra comes from (vnnews is installed from its checkout, not PyPI)
INSTALL_EXPORT = "in the vnnews checkout, run .venv/bin/pip install -e '.[export]'"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[str], tick: Callable[[], None]) -> int:
    n = 0
    for rec in records:
        out.write(json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False) + "\n")
        n += 1
        tick()
    return n


def write_csv(records: Iterator[dict[str, Any]], out: IO[str], tick: Callable[[], None]) -> int:
    """Lists (authors, tags, images) as JSON text; times as ISO 8601 UTC."""
    writer = csv.writer(out)
    writer.writerow([name for name, _ in FIELDS])
    n = 0
    for rec in records:
        row = []
        for name, kind in FIELDS:
            value = rec[name]
            if kind in ("strs", "images"):
                value = json.dumps(value or [], ensure_ascii=False)
            row.append("" if value is None else _plain(value))
        writer.writerow(row)
        n += 1
        tick()
    return n


def parquet_schema() -> Any:
    import pyarrow as pa

    image = pa.struct([("url", pa.string()), ("caption", pa.string())])
    kinds = {
        "int": pa.int64(),
        "str": pa.string(),
        "time": pa.timestamp("us", tz="UTC"),
        "strs": pa.list_(pa.string()),
        "images": pa.list_(image),
    }
    return pa.schema([(name, kinds[kind]) for name, kind in FIELDS])


def write_parquet(records: Iterator[dict[str, Any]], path: Path, tick: Callable[[], None]) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise VnnewsError(f"--format parquet needs pyarrow: {INSTALL_EXPORT}") from None
    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for rec in records:
            batch.append(rec)
            n += 1
            tick()
            if len(batch) == 1000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return n


def write_warc(
    session: Session, pages: Iterator[tuple[int, Any]], out: IO[bytes], tick: Callable[[], None]
) -> int:
    try:
        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter
    except ImportError:
        raise VnnewsError(f"--format warc needs warcio: {INSTALL_EXPORT}") from None
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    n = 0
    for article_id, page in pages:
        body = bodies.page_body(page)
        date = page.fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        split = urlsplit(page.final_url)
        request = writer.create_warc_record(
            page.final_url,
            "request",
            http_headers=StatusAndHeaders(
                f"GET {split.path or '/'}{'?' + split.query if split.query else ''} HTTP/1.1",
                [("Host", split.netloc)],
                is_http_request=True,
            ),
            warc_headers_dict={"WARC-Date": date},
        )
        try:
            reason = HTTPStatus(page.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = [
            (k, str(v)) for k, v in (page.headers or {}).items() if k.lower() not in _WIRE_HEADERS
        ]
        headers.append(("Content-Length", str(len(body))))
        response = writer.create_warc_record(
            page.final_url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),  # known: warcio would otherwise spool the body to a temp file
            http_headers=StatusAndHeaders(f"{page.status} {reason}", headers, protocol="HTTP/1.1"),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": request.rec_headers.get_header("WARC-Record-ID"),
                "X-Vnnews-Article-Id": str(article_id),
                "X-Vnnews-Page-Id": str(page.id),
            },
        )
        writer.write_record(request)
        writer.write_record(response)
        n += 1
        tick()
    return n


def export(
    session: Session,
    fmt: str,
    path: Path | None,
    *,
    site: str | None,
    since: datetime | None,
    until: datetime | None,
    tick: Callable[[], None] = lambda: None,
) -> int:
    """Write the matching articles to ``path`` in ``fmt`` (None: standard output, as it is,
    appended to whatever it holds; not parquet, which is written with seeks); returns how
    many."""
    where: dict[str, Any] = {"site": site, "since": since, "until": until}
    try:
        if fmt == "parquet":
            if path is None:
                raise VnnewsError("--format parquet needs a file (--out PATH), not a stream")
            with _replacing(path) as tmp:
                return write_parquet(article_records(session, **where), tmp, tick)
        if fmt == "warc":
            _require(
                "warcio", "warc"
            )  # before the file is opened: a failed run leaves it as it was
            if path is None:
                return write_warc(session, article_pages(session, **where), _stdout(), tick)
            with _replacing(path) as tmp, tmp.open("wb") as raw:
                return write_warc(session, article_pages(session, **where), raw, tick)
        write = write_csv if fmt == "csv" else write_jsonl
        if path is None:
            out = io.TextIOWrapper(_stdout(), encoding="utf-8", newline="")
            try:
                return write(article_records(session, **where), out, tick)
            finally:
                out.flush()
                out.detach()  # standard output stays open for the process
        with _replacing(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as text_out:
            return write(article_records(session, **where), text_out, tick)
    except BrokenPipeError:
        raise  # `--out - | head`: the reader has what it wanted (jobs.cli: exit 0)
    except OSError as exc:
        where_to = "standard output" if path is None else str(path)
        raise VnnewsError(f"{where_to}: cannot write: {exc.strerror or exc}") from None


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it once the export is complete: an
    export that fails or is interrupted leaves no half-written file, and an earlier export
    at ``path`` stays as it was (the new file takes its mode, and its owner when we may).
    Anything but a regular file (``/dev/null``, ``/dev/stdout``, a pipe, a FIFO) is written in
    place; a symlink's target is replaced, not the link."""
    try:
        st: os.stat_result | None = os.stat(path)  # follows links, /dev/fd and /proc ones too
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        yield path
        return
    target = Path(os.path.realpath(path))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        yield tmp
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            with suppress(OSError):  # another owner's file: only root may keep it
                os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _stdout() -> IO[bytes]:
    import sys

    sys.stdout.flush()
    return sys.stdout.buffer


def _require(module: str, fmt: str) -> None:
    """Fail before writing anything when the optional library of ``fmt`` is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise VnnewsError(f"--format {fmt} needs {module}: {INSTALL_EXPORT}")
