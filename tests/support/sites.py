"""The two-site loopback mirror of real vnexpress and tuoitre pages used by end-to-end tests,
its sources.toml, and the CLI as a user runs it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jobs.cli import cli
from tests.support.mirror import MirrorSite

# (mirror path, fixture page, golden file)
VNX_PAGES = [
    ("/kinh-doanh/cach-cac-nuoc-doi-pho-5047363.html", "vnexpress.net/meth04-article.html"),
    (
        "/suc-khoe/dau-bung-keo-dai-4954454.html",
        "vnexpress.net/article-dau-bung-keo-dai-4954454.html",
    ),
]
TT_PAGES = [
    ("/kinh-doanh/chien-su-day-gia-hoa-20260307075519174.htm", "tuoitre.vn/meth04-article.html")
]


def tt_mirror() -> MirrorSite:
    """A started mirror serving the tuoitre pages and a feed of them."""
    from tests.support.loopback import LoopbackServer
    from tests.support.paths import golden

    site = MirrorSite(LoopbackServer()).start()
    for path, fixture in TT_PAGES:
        site.real_page(path, fixture)
        site.add_item(path, str(golden(fixture)["title"]))
    return site


def one_site_config(
    path: Path, site: MirrorSite, *, name: str = "tt", fetch: str = "", extra: str = ""
) -> Path:
    """A sources.toml of one loopback site read from its feed, politeness off; ``fetch``:
    more [fetch] lines, ``extra``: more lines of the [[site]] table."""
    path.write_text(
        f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
{fetch}
[[site]]
name = "{name}"
base_url = "{site.base_url}"
feeds = ["{site.url("/rss.xml")}"]
article_pattern = '\\.htm$'
{extra}
""",
        encoding="utf-8",
    )
    return path


def write_config(path: Path, vnx: MirrorSite, tt: MirrorSite, extra: str = "") -> Path:
    path.write_text(
        f"""
[fetch]
min_delay = 0
timeout = "10s"
allow_hosts = ["127.0.0.1"]
max_retries = 0

[[site]]
name = "vnx"
base_url = "{vnx.base_url}"
feeds = ["{vnx.url("/rss.xml")}"]
profile = "vnexpress"
article_pattern = '\\.html?$'
every = "15m"

[[site]]
name = "tt"
base_url = "{tt.base_url}"
feeds = ["{tt.url("/rss.xml")}"]
profile = "tuoitre"
article_pattern = '\\.html?$'
every = "15m"
{extra}
""",
        encoding="utf-8",
    )
    return path


def invoke(db_url: str, config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "-q", *args])
    return result.exit_code, result.output
