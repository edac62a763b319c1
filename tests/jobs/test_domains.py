"""Sites that move, the pure parts: registrable domains, the config keys, and the policy of
jobs/domains.py (which hops to follow, which are moves, which URLs and profiles are the site's)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from jobs import domains
from jobs.config import SiteConfig, load_config, parse_config
from scraper.errors import ConfigError
from scraper.fetch import FetchResult
from scraper.profiles import load_profiles, parse_profiles
from scraper.urls import registrable_domain
from tests.support.paths import ROOT


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("baobinhphuoc.com.vn", "baobinhphuoc.com.vn"),
        ("www.baodongnai.com.vn", "baodongnai.com.vn"),
        ("media.baolaocai.vn", "baolaocai.vn"),
        ("sonoivu.laocai.gov.vn", "laocai.gov.vn"),
        ("https://WWW.BaoBacNinhTV.vn:8443/x?y=1", "baobacninhtv.vn"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("127.0.0.3", "127.0.0.3"),
        ("http://127.0.0.3:8080/rss.xml", "127.0.0.3"),
        ("localhost", "localhost"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_registrable_domain_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        registrable_domain("not a host")


def site(extra: str = "", name: str = "baobinhphuoc") -> SiteConfig:
    return parse_config(f'[[site]]\nname = "{name}"\n{extra}\n').sites[0]


def test_config_keys_follow_moves_and_aliases() -> None:
    plain = site()
    assert (plain.follow_moves, plain.aliases) == (False, ())
    s = site('follow_moves = true\naliases = ["BaoDongNai.com.vn", "127.0.0.3"]')
    assert (s.follow_moves, s.aliases) == (True, ("baodongnai.com.vn", "127.0.0.3"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('aliases = ["https://baodongnai.com.vn/"]', r"site\[0\]\.aliases\[0\]: expected a host"),
        ('aliases = "baodongnai.com.vn"', r"site\[0\]\.aliases: expected a list"),
        ('follow_moves = "yes"', r"site\[0\]\.follow_moves: expected true/false"),
    ],
)
def test_config_mistakes_name_the_key(extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        site(extra)


def test_profile_aliases_are_read_and_checked() -> None:
    text = """
[[profile]]
name = "merged"
domains = ["merged.vn"]
[profile.discovery]
aliases = ["Old.com.vn"]
"""
    (p,) = parse_profiles(text, "merged.toml")
    assert p.aliases == ("old.com.vn",)
    with pytest.raises(ConfigError, match=r"merged\.toml: .*discovery\.aliases\[0\]"):
        parse_profiles(text.replace("Old.com.vn", "old.vn/path"), "merged.toml")


def test_the_shipped_map_of_merged_papers() -> None:
    config = load_config(ROOT / "sources.toml")
    names = {s.name for s in config.sites}
    # the seed sites stay, the merged papers are sites of their own
    assert {
        "baobinhphuoc",
        "baolangson",
        "baobacninhtv",
        "baolaocai",
        "baonghean",
        "cualo",
    } <= names
    assert config.site("baodongnai").aliases == ("baobinhphuoc.com.vn",)
    assert config.site("baodongnai").profile == "baodongnai"
    assert "baoyenbai.com.vn" in config.site("baolaocai").aliases
    assert not any(s.follow_moves for s in config.sites)


def result(url: str, *hops: str, held: str | None = None, status: int = 200) -> FetchResult:
    final = hops[-1] if hops else url
    return FetchResult(
        url=url, final_url=final, status=status, headers={}, body=b"",
        fetched_at=datetime(2025, 7, 2, tzinfo=UTC), redirects=hops, elapsed=0.0, held=held,
    )  # fmt: skip


OLD = "https://baobinhphuoc.com.vn/news/32/153777/cau-moi"
NEW = "https://baodongnai.com.vn/xa-hoi/cau-moi-123.html"


def test_hops_a_site_takes() -> None:
    s = site()
    assert domains.may_follow(
        s, "http://baobinhphuoc.com.vn/a", "https://www.baobinhphuoc.com.vn/a"
    )
    assert not domains.may_follow(s, OLD, NEW)  # leaving its domain: held
    assert domains.may_follow(s, "https://feeds.example.com/x", "https://other.example.net/x")
    assert domains.may_follow(dataclasses.replace(s, follow_moves=True), OLD, NEW)
    assert domains.may_follow(dataclasses.replace(s, aliases=("baodongnai.com.vn",)), OLD, NEW)


def test_a_move_is_a_hop_that_leaves_the_home_domain() -> None:
    s = site()
    seen = domains.find_move(s, result(OLD, NEW))
    assert seen == domains.MoveSeen("baobinhphuoc.com.vn", "baodongnai.com.vn", OLD)
    held = domains.find_move(s, result(OLD, held="https://www.baodongnai.com.vn/", status=301))
    assert held is not None and held.to_host == "www.baodongnai.com.vn"
    assert domains.find_move(s, result(OLD, OLD.replace("https://", "https://www."))) is None
    assert domains.find_move(s, result(OLD)) is None
    # for the merged paper, an absorbed paper's URL redirecting home is no move
    merged = site('aliases = ["baobinhphuoc.com.vn"]', name="baodongnai")
    assert domains.find_move(merged, result(OLD, NEW)) is None


def test_whose_urls_and_patterns() -> None:
    old = site()
    assert domains.is_own(old, OLD) and not domains.is_own(old, NEW)
    assert not domains.is_own(old, NEW, moved_to={"baodongnai.com.vn"})  # not followed
    follows = dataclasses.replace(old, follow_moves=True)
    assert domains.is_own(follows, NEW, moved_to={"baodongnai.com.vn"})
    merged = site('aliases = ["baobinhphuoc.com.vn"]', name="baodongnai")
    assert domains.is_own(merged, OLD) and domains.is_own(merged, NEW)
    # an absorbed paper's URL is judged by its own profile's pattern
    assert domains.is_article_url(merged, OLD)
    assert not domains.is_article_url(merged, "https://baobinhphuoc.com.vn/lien-he")
    # an alias without a profile: the site's pattern, read on the home host
    laocai = site('aliases = ["baoyenbai.com.vn"]', name="baolaocai")
    assert domains.is_article_url(laocai, "https://baoyenbai.com.vn/tin-moi-post123.html")
    assert not domains.is_article_url(laocai, "https://baoyenbai.com.vn/chuyen-muc/")


def test_profiles_by_the_url_a_page_was_served_from() -> None:
    old = site()
    own = load_profiles().get("baobinhphuoc")
    assert domains.page_profile(old, own, OLD) is own
    assert domains.page_profile(old, own, NEW) is None  # extraction resolves baodongnai's
    assert load_profiles().resolve(NEW) == load_profiles().get("baodongnai")
    listing = domains.listing_profile(old, own, "https://baodongnai.com.vn/")
    assert listing is not None and listing.name == "baodongnai"


def test_an_article_sent_home_landed_on_home() -> None:
    home = "https://baobinhphuoc.com.vn/"
    assert domains.landed_on_home(result(OLD, home))
    assert not domains.landed_on_home(result(OLD))
    assert not domains.landed_on_home(result(home, "https://www.baobinhphuoc.com.vn/"))
