"""The fetcher's ``follow=`` hook: a redirect hop the caller refuses is never requested; the
3xx answer comes back with its target in ``held`` (a moved site not followed, jobs/domains.py)."""

from __future__ import annotations

import pytest

from scraper.errors import BlockedAddressError
from tests.scraper.fetch.test_fetch import Site, fetch, html, redirect, run


def same_domain(a: str, b: str) -> bool:
    return a.split("/")[2].removeprefix("www.") == b.split("/")[2].removeprefix("www.")


def test_a_refused_hop_is_held_not_requested() -> None:
    site = Site(
        {
            "/old": redirect("http://www.old.test/mid", 301),  # same domain: taken
            "/mid": redirect("http://new.test/story", 301),  # another domain: held
            "/story": html(),
        }
    )
    result = run(fetch(site, "http://old.test/old", follow=same_domain))
    assert (result.status, result.final_url) == (301, "http://www.old.test/mid")
    assert result.redirects == ("http://www.old.test/mid",)
    assert result.held == "http://new.test/story"
    assert result.body == b""
    assert [str(r.url) for r in site.requests if r.url.path != "/robots.txt"] == [
        "http://old.test/old",
        "http://www.old.test/mid",
    ]


def test_without_follow_every_hop_is_taken() -> None:
    site = Site({"/old": redirect("http://new.test/story", 301), "/story": html()})
    result = run(fetch(site, "http://old.test/old"))
    assert (result.status, result.final_url, result.held) == (200, "http://new.test/story", None)


def test_a_held_target_the_guard_forbids_is_still_refused() -> None:
    # held targets are never requested, but a forbidden address is an error, not a "move"
    site = Site({"/old": redirect("http://10.0.0.1/x", 301)})
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1"):
        run(fetch(site, "http://old.test/old", follow=same_domain))
