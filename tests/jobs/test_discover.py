"""Discovery's parsing step as the crawler runs it: a site's profile decides how its feed's
numeric dates read, and the site's rules decide which URLs it keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.config import parse_config
from jobs.discover import _lastmods_trusted, feed_urls, sitemap_urls
from jobs.runs import RunStats, SitePass
from scraper.fetch import FetchResult
from tests.support.paths import REAL

FEED = REAL / "baochinhphu.vn" / "feed-baochinhphu.xml"
URL = "https://baochinhphu.vn/kinh-te.rss"
FIRST = "https://baochinhphu.vn/co-che-chinh-sach-xac-dinh-gia-san-pham-in-duc-tien-102260905122709839.htm"


def _pass(entry: str) -> SitePass:
    site = parse_config(entry).sites[0]
    return SitePass(site, 1, site.site_profile(), RunStats())


def _feed() -> FetchResult:
    return FetchResult(
        url=URL, final_url=URL, status=200, headers={}, body=FEED.read_bytes(),
        fetched_at=datetime(2026, 9, 6, tzinfo=UTC), redirects=(), elapsed=0.0,
    )  # fmt: skip


def test_the_sites_profile_reads_its_us_dated_feed() -> None:
    found = {
        u.url: u.source_date
        for u in feed_urls(
            _pass(
                '[[site]]\nname = "baochinhphu"\nbase_url = "https://baochinhphu.vn/"\nfeeds = ["https://baochinhphu.vn/kinh-te.rss"]\n'
            ),
            _feed(),
        )
    }
    assert found[FIRST] == datetime(2026, 9, 5, 6, 30, tzinfo=UTC)  # "9/5/2026 1:30 PM": 5 Sept


def test_a_profile_without_date_order_reads_numeric_dates_day_first() -> None:
    p = _pass(
        '[[site]]\nname = "other"\nbase_url = "https://baochinhphu.vn/"\nprofile = "nukeviet"\n'
        'article_pattern = "[.]htm$"\nfeeds = ["https://baochinhphu.vn/kinh-te.rss"]\n'
    )
    found = {u.url: u.source_date for u in feed_urls(p, _feed())}
    assert found[FIRST] == datetime(2026, 5, 9, 6, 30, tzinfo=UTC)  # the Vietnamese default


SITE = (
    '[[site]]\nname = "baochinhphu"\nbase_url = "https://baochinhphu.vn/"\n'
    'feeds = ["https://baochinhphu.vn/kinh-te.rss"]\n'
)


def test_a_feed_all_outside_the_window_is_only_old_not_a_config_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An old monthly sitemap or feed (all its items older than the horizon) is counted, not
    warned about (``read_source`` says it once for a feed); the warning naming article_pattern
    and base_url is for items that are not the site's."""
    p = _pass(SITE)
    with caplog.at_level("DEBUG", logger="vnnews"):
        kept = feed_urls(p, _feed(), oldest=datetime(2027, 1, 1, tzinfo=UTC))
    assert kept == [] and p.stats.out_of_window == 50
    assert caplog.records == []
    caplog.clear()
    other = SITE.replace('https://baochinhphu.vn/"\nfeeds', 'https://example.vn/"\nfeeds')
    with caplog.at_level("INFO", logger="vnnews"):
        assert feed_urls(_pass(other), _feed()) == []
    [record] = caplog.records
    assert record.levelname == "WARNING" and "none of them the site's articles" in record.message


def _sitemap(lastmods: list[str]) -> FetchResult:
    url = "https://baochinhphu.vn/sitemap.xml"
    entries = "".join(
        f"<url><loc>https://baochinhphu.vn/tin-so-{i}-10226090512270983{i}.htm</loc>"
        f"<lastmod>{d}</lastmod></url>"
        for i, d in enumerate(lastmods)
    )
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    return FetchResult(
        url=url, final_url=url, status=200, headers={}, body=body.encode(),
        fetched_at=datetime(2026, 9, 6, tzinfo=UTC), redirects=(), elapsed=0.0,
    )  # fmt: skip


def test_a_sitemap_stamping_one_lastmod_on_most_entries_is_no_evidence_of_edits() -> None:
    """Per-page lastmods are kept for the refetch of changed articles; a sitemap whose entries
    mostly share one lastmod (stamped when the file is generated) gives none."""
    p = _pass(SITE)
    own = [f"2026-09-0{d}T08:00:00+07:00" for d in range(1, 7)]
    found, _ = sitemap_urls(p, _sitemap(own), max_bytes=10**6)
    assert len(found) == 6 and [u.lastmod for u in found] == [u.source_date for u in found]
    assert None not in {u.lastmod for u in found}
    stamped = ["2026-09-06T10:00:00+07:00"] * 5 + own[:1]
    found, _ = sitemap_urls(p, _sitemap(stamped), max_bytes=10**6)
    assert len(found) == 6 and {u.lastmod for u in found} == {None}
    assert found[0].source_date == datetime(2026, 9, 6, 3, tzinfo=UTC)  # still dates the URL


def test_lastmods_are_trusted_unless_more_than_half_share_one() -> None:
    a, b, c = (datetime(2026, 9, d, tzinfo=UTC) for d in (1, 2, 3))
    assert _lastmods_trusted([a]) and _lastmods_trusted([a, b, None])
    assert _lastmods_trusted([a, a, b, c])  # half: each page may still be dated
    assert not _lastmods_trusted([a, a]) and not _lastmods_trusted([a, a, a, b])
    assert not _lastmods_trusted([None, None])
