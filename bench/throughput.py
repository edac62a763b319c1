"""Throughput benchmark: vnnews beside a reference pipeline, same pages, same run.

``python bench/throughput.py`` (``make bench-throughput``) serves a loopback mirror of real pages
(ten article pages of tests/fixtures/real, each copy made unique by a numbered sentence in its
first paragraph, so no two are deduplicated; nld.com.vn is left out: its text comes from where
such a sentence cannot be put) from a separate process, on one host and on 20
hosts (127.0.0.1 .. 127.0.0.20, each a site with a sitemap of its articles), and archives it
twice per layout:

- **vnnews**: ``vnnews crawl`` (a subprocess, as a user runs it) into a fresh SQLite file, with
  politeness off (``min_delay = 0``, ``delay_factor = 0``, robots off) so the pipeline's own cost
  shows: discovery, fetch, extraction, dedup, zstd, the archive's writes;
- **reference**: httpx 8 requests at a time + trafilatura + sqlite3 with zlib (a subprocess too).

For each it prints articles/s (wall time of the subprocess), CPU ms per archived article (user +
system of the process and its worker processes, from ``wait4``) and peak memory: the largest sum
over the process tree of each process's PSS (its private pages plus its share of pages shared
with others: the pool's workers are forked from one parent and share its pages, which a sum of
RSS would count once per worker), sampled every 100 ms (reading ``smaps_rollup`` makes the kernel
walk every page table: about 4 ms of CPU a sample here, so at every 20 ms the sampler took a fifth
of a core from the pipeline it measured). The HTTP server runs in its own process and is not
counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Event, Process
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"
VNNEWS = Path(sys.executable).with_name("vnnews")
PORT = 18780
#: seconds between two samples of the process tree's memory (the module docstring says why)
SAMPLE_EVERY = 0.1
ARTICLES = [
    "baochinhphu.vn/meth04-article.html",
    "baodautu.vn/meth04-article.html",
    "cafef.vn/meth04-article.html",
    "cafef.vn/meth04-article_batdongsan.html",
    "dantri.com.vn/meth04-article.html",
    "tuoitre.vn/meth04-article.html",
    "vietnamnet.vn/meth04-article.html",
    "vnexpress.net/article-dau-bung-keo-dai-4954454.html",
    "vnexpress.net/meth04-article.html",
    "vtcnews.vn/article-sample.html",
]


def _anchor(html: bytes) -> int:
    """Where the article's body text starts in ``html``: the first paragraph of the extracted
    text found verbatim after the h1 (so the copy's numbered sentence lands in the text that
    the content hash covers)."""
    sys.path.insert(0, str(ROOT))
    from scraper.extract import extract_article

    def text(page: bytes) -> str:
        return extract_article(
            page.decode("utf-8", "replace"), "http://127.0.0.1/x.html", None
        ).text

    start = max(html.find(b"<h1"), 0)
    for para in text(html).split("\n"):
        probe = para.strip()[:24].encode()
        at = html.find(probe, start) if len(probe) >= 12 else -1
        if at >= 0 and "MARKER-0" in text(html[:at] + b"MARKER-0 " + html[at:]):
            return at
    raise ValueError("no paragraph of the extracted text found in the page")


def unique_copies(n: int) -> list[bytes]:
    """``n`` pages cycling over the real articles, each with its own numbered sentence."""
    originals = [(REAL / name).read_bytes() for name in ARTICLES]
    anchors = [_anchor(html) for html in originals]
    out = []
    for i in range(n):
        html, at = originals[i % len(originals)], anchors[i % len(originals)]
        out.append(html[:at] + f"Bản sao số {i} của bài viết. ".encode() + html[at:])
    return out


def hosts(count: int) -> list[str]:
    return [f"127.0.0.{k}" for k in range(1, count + 1)]


def article_path(i: int) -> str:
    return f"/tin-tuc/bai-viet-so-{i}.html"


def layout(n: int, host_count: int) -> dict[str, list[int]]:
    """Which article ids each host serves (round robin)."""
    out: dict[str, list[int]] = {h: [] for h in hosts(host_count)}
    names = list(out)
    for i in range(n):
        out[names[i % host_count]].append(i)
    return out


# --- the mirror (its own process) --------------------------------------------------------------


def serve(n: int, host_count: int, ready: object, stop: object) -> None:
    bodies = unique_copies(n)
    ids = layout(n, host_count)

    def sitemap(host: str) -> bytes:
        locs = "".join(
            f"<url><loc>http://{host}:{PORT}{article_path(i)}</loc></url>" for i in ids[host]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
        ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            host = self.server.server_address[0]  # type: ignore[index]
            if self.path == "/sitemap.xml":
                body, ctype = sitemap(str(host)), "application/xml"
            elif self.path.startswith("/tin-tuc/bai-viet-so-"):
                i = int(self.path.rsplit("-", 1)[1].removesuffix(".html"))
                body, ctype = bodies[i], "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    servers = []
    for host in hosts(host_count):
        srv = ThreadingHTTPServer((host, PORT), Handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    ready.set()  # type: ignore[attr-defined]
    stop.wait()  # type: ignore[attr-defined]
    for srv in servers:
        srv.shutdown()


# --- measuring a subprocess ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    articles: int
    wall: float
    cpu: float
    peak_rss_mb: float

    def line(self) -> str:
        per = self.cpu / self.articles * 1000 if self.articles else float("nan")
        return (
            f"{self.name:<28} {self.articles:5d} articles  {self.wall:6.2f} s  "
            f"{self.articles / self.wall:7.1f} articles/s  {per:6.2f} ms CPU/article  "
            f"peak memory (PSS) {self.peak_rss_mb:5.0f} MB"
        )


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _rss_kb(pid: int) -> int:
    """The process's proportional set size (shared pages divided among their sharers: the pool's
    workers share what they were forked with), or its RSS where the kernel has no PSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; its wall time, CPU seconds (with its reaped children) and peak tree RSS (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_rss_kb(p) for p in _tree(proc.pid)))
            time.sleep(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak / 1024


# --- vnnews ----------------------------------------------------------------------------------


def vnnews_config(host_count: int, n: int, daemon: dict[str, object] | None = None) -> str:
    lines = [
        "[fetch]",
        "min_delay = 0",
        "delay_factor = 0",
        "respect_robots = false",
        "max_retries = 0",
        f"allow_hosts = {hosts(host_count)!r}".replace("'", '"'),
        "[daemon]",
        f"batch = {n}",
        *(f"{key} = {value!r}".replace("'", '"') for key, value in (daemon or {}).items()),
    ]
    for k, host in enumerate(hosts(host_count)):
        lines += [
            "[[site]]",
            f'name = "site{k}"',
            f'base_url = "http://{host}:{PORT}/"',
            f'sitemaps = ["http://{host}:{PORT}/sitemap.xml"]',
            "robots_sitemaps = false",
            "article_pattern = '/tin-tuc/bai-viet-so-\\d+\\.html$'",
        ]
    return "\n".join(lines) + "\n"


def run_vnnews(
    work: Path, host_count: int, n: int, daemon: dict[str, object] | None = None
) -> Result:
    cfg, db = work / f"vnnews-{host_count}.toml", work / f"vnnews-{host_count}.db"
    cfg.write_text(vnnews_config(host_count, n, daemon), encoding="utf-8")
    base = [str(VNNEWS), "--db", f"sqlite:///{db}", "--config", str(cfg)]
    subprocess.run([*base, "db", "upgrade"], check=True, capture_output=True)
    wall, cpu, rss = measure([*base, "crawl"])
    with sqlite3.connect(db) as con:
        articles = con.execute("select count(*) from articles").fetchone()[0]
    how = "".join(f", {k}={v}" for k, v in (daemon or {}).items())
    return Result(f"vnnews, {host_count} host(s){how}", articles, wall, cpu, rss)


# --- the reference pipeline -------------------------------------------------------------------


async def _reference(urls: list[str], db: str) -> None:
    import httpx
    import trafilatura

    con = sqlite3.connect(db)
    con.execute("create table pages (url text primary key, status int, body blob)")
    con.execute("create table articles (url text primary key, title text, text text)")
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(url: str) -> None:
            async with sem:
                response = await client.get(url)
            html = response.text
            con.execute(
                "insert into pages values (?, ?, ?)",
                (url, response.status_code, zlib.compress(response.content)),
            )
            doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
            if doc is not None and doc.text:
                con.execute("insert into articles values (?, ?, ?)", (url, doc.title, doc.text))
            con.commit()

        await asyncio.gather(*(one(u) for u in urls))
    con.close()


def run_reference(work: Path, host_count: int, n: int) -> Result:
    db = work / f"reference-{host_count}.db"
    urls = work / f"urls-{host_count}.txt"
    names = hosts(host_count)
    order = [f"http://{names[i % host_count]}:{PORT}{article_path(i)}" for i in range(n)]
    urls.write_text("\n".join(order), encoding="utf-8")
    script = [sys.executable, __file__, "--reference-run", str(urls), str(db)]
    wall, cpu, rss = measure(script)
    with sqlite3.connect(db) as con:
        articles = con.execute("select count(*) from articles").fetchone()[0]
    return Result(f"reference, {host_count} host(s)", articles, wall, cpu, rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="articles (default 1000)")
    parser.add_argument("--hosts", type=int, nargs="*", default=[1, 20])
    parser.add_argument("--reference-run", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["vnnews", "reference"])
    parser.add_argument("--cpu-pool", choices=["process", "thread", "inline"])
    parser.add_argument("--cpu-workers", type=int)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per layout, each pipeline once a round, "
        "alternating which goes first; the ratios are of the medians (default 1)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.reference_run:
        urls = Path(args.reference_run[0]).read_text(encoding="utf-8").split()
        asyncio.run(_reference(urls, args.reference_run[1]))
        return
    print(f"{args.n} real article pages ({len(ARTICLES)} originals), {os.cpu_count()} CPUs")
    pool = {
        key: value
        for key, value in (("cpu_pool", args.cpu_pool), ("cpu_workers", args.cpu_workers))
        if value is not None
    }
    results: list[tuple[int, list[Result], list[Result]]] = []
    for host_count in args.hosts:
        ready, stop = Event(), Event()
        server = Process(target=serve, args=(args.n, host_count, ready, stop), daemon=True)
        server.start()
        ready.wait(60)
        ours: list[Result] = []
        refs: list[Result] = []
        try:
            for round_ in range(args.repeat):
                # alternate which runs first: the machine's drift falls on both alike
                order = ["vnnews", "reference"] if round_ % 2 == 0 else ["reference", "vnnews"]
                for who in order:
                    if args.only not in (None, who):
                        continue
                    with tempfile.TemporaryDirectory(prefix="vnnews-bench-") as tmp:
                        if who == "vnnews":
                            result = run_vnnews(Path(tmp), host_count, args.n, pool)
                            ours.append(result)
                        else:
                            result = run_reference(Path(tmp), host_count, args.n)
                            refs.append(result)
                    print(result.line(), flush=True)
        finally:
            stop.set()
            server.join(10)
        results.append((host_count, ours, refs))
    for host_count, ours, refs in results:
        if not (ours and refs and all(r.articles for r in ours + refs)):
            continue
        # ratios of the medians; with --repeat, each round's own ratios show the spread
        speed = _median([r.wall for r in refs]) / _median([r.wall for r in ours])
        cpu = _median([r.cpu / r.articles for r in refs]) / _median(
            [r.cpu / r.articles for r in ours]
        )
        rounds = ""
        if len(ours) > 1 and len(ours) == len(refs):
            walls = sorted(f.wall / o.wall for o, f in zip(ours, refs, strict=True))
            cpus = sorted(
                (f.cpu / f.articles) / (o.cpu / o.articles) for o, f in zip(ours, refs, strict=True)
            )
            rounds = (
                f" (medians of {len(ours)} rounds; each round {walls[0]:.1f}x-{walls[-1]:.1f}x, "
                f"{cpus[0]:.1f}x-{cpus[-1]:.1f}x)"
            )
        print(
            f"vnnews, {host_count} host(s): {speed:.1f}x faster in wall time, "
            f"{cpu:.1f}x less CPU per article{rounds}"
        )


def _median(values: list[float]) -> float:
    return statistics.median(values)


if __name__ == "__main__":
    main()
