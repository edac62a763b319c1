"""A crawled archive for the read-side tests: the two loopback mirrors of real pages plus a
story about Đà Nẵng and a republished copy of it (a near-duplicate)."""

from __future__ import annotations

from pathlib import Path

from tests.support.mirror import MirrorSite
from tests.support.paths import REAL, golden
from tests.support.sites import VNX_PAGES, invoke, write_config

DA_NANG = "/thoi-su/da-nang-don-khach-5047999.html"
COPY = "/thoi-su/da-nang-don-khach-ban-sao-5048000.html"
LEAD = "Thành phố Đà Nẵng đón hàng nghìn du khách trong dịp lễ"


def da_nang_page(extra: str = "") -> bytes:
    """The first vnexpress story with its lead paragraph about Đà Nẵng (and ``extra`` text
    appended to that paragraph for a republished copy)."""
    fixture = VNX_PAGES[0][1]
    html = (REAL / fixture).read_text(encoding="utf-8")
    first = str(golden(fixture)["first_paragraph"])[:60]
    assert first in html
    return html.replace(first, f"{LEAD}. {extra}", 1).encode("utf-8")


def crawl_archive(db_url: str, tmp_path: Path, vnx: MirrorSite, tt: MirrorSite) -> Path:
    vnx.page(DA_NANG, da_nang_page())
    vnx.add_item(DA_NANG, "Đà Nẵng đón khách")
    vnx.page(COPY, da_nang_page("Theo Báo Đà Nẵng, lượng khách tăng mạnh so với năm trước."))
    vnx.add_item(COPY, "Đà Nẵng đón khách (bản sao)")
    config = write_config(tmp_path / "sources.toml", vnx, tt)
    assert invoke(db_url, config, "db", "upgrade")[0] == 0
    code, out = invoke(db_url, config, "crawl")
    assert code == 0, out
    return config
