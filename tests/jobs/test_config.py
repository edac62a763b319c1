"""sources.toml validation: each mistake is one error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import load_config, parse_config, parse_duration
from scraper.errors import ConfigError
from tests.support.paths import ROOT

MINIMAL = """
[[site]]
name = "demo"
base_url = "https://demo.vn/"
feeds = ["https://demo.vn/rss/home.rss"]
"""


def test_shipped_sources_load() -> None:
    config = load_config(ROOT / "sources.toml")
    names = {s.name for s in config.sites}
    assert {
        "baobinhphuoc",
        "baolangson",
        "baobacninhtv",
        "baolaocai",
        "baonghean",
        "cualo",
    } <= names
    assert config.fetch.respect_robots is True
    for site in config.sites:
        assert site.every >= 60 and (site.feeds or site.sitemaps or site.listings)


def test_a_site_with_only_feeds_works_with_defaults() -> None:
    config = parse_config(MINIMAL)
    site = config.site("demo")
    assert site.every == 900 and site.feeds == ("https://demo.vn/rss/home.rss",)
    assert config.fetch.allow_hosts == () and config.fetch.respect_robots


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fetch]\nuser_agnt = 'x'\n" + MINIMAL, r"sources.toml: fetch.user_agnt: unknown key"),
        ("[fetch]\ntimeout = 'soon'\n" + MINIMAL, r"fetch.timeout: bad duration 'soon'"),
        ("[fetch]\nmax_bytes = -1\n" + MINIMAL, r"fetch.max_bytes: must be positive"),
        (
            "[fetch]\nrespect_robots = 'no'\n" + MINIMAL,
            r"fetch.respect_robots: expected true/false",
        ),
        ("[fetch]\nallow_hosts = [1]\n" + MINIMAL, r"fetch.allow_hosts\[0\]"),
        (
            MINIMAL.replace('"https://demo.vn/"', '"ftp://demo.vn/"'),
            r"site\[0\].base_url: not an http\(s\) URL",
        ),
        (MINIMAL + "every = '5x'\n", r"site\[0\].every: bad duration '5x'"),
        (MINIMAL + "every = '10s'\n", r"site\[0\].every: must be at least 1m"),
        (
            MINIMAL + "article_pattern = '(['\n",
            r"site\[0\].article_pattern: bad regular expression",
        ),
        (MINIMAL + "feedz = []\n", r"site\[0\].feedz: unknown key"),
        (MINIMAL + "profile = 'nope'\n", r"site\[0\].profile: unknown profile 'nope'"),
        (MINIMAL + MINIMAL, r"site\[1\].name: duplicate site name 'demo'"),
        (
            MINIMAL.replace('feeds = ["https://demo.vn/rss/home.rss"]', 'feeds = ["not a url"]'),
            r"site\[0\].feeds\[0\]: not an http\(s\) URL",
        ),
        (
            MINIMAL.replace('feeds = ["https://demo.vn/rss/home.rss"]', ""),
            r"site\[0\].feeds: a site needs",
        ),
        ("[[site]]\nname = 'x'\n", r"site\[0\].base_url: missing"),
        ("[[site]\n", r"not valid TOML"),
        ("[fetchh]\n", r"fetchh: unknown key"),
    ],
)
def test_bad_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "sources.toml")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h30m", 5400), ("2d", 172800), ("45s", 45), (5, 5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_contact_goes_into_the_user_agent_and_url_rules_are_checked() -> None:
    config = parse_config('[fetch]\ncontact = "mailto:archive@example.org"\n' + MINIMAL)
    assert (
        "vnnews/" in config.fetch.user_agent
        and "mailto:archive@example.org" in config.fetch.user_agent
    )
    with pytest.raises(ConfigError, match=r"fetch.contact: expected an http\(s\) or mailto: URL"):
        parse_config('[fetch]\ncontact = "me"\n' + MINIMAL)
    site = parse_config(MINIMAL + 'www = "strip"\ntrailing_slash = "strip"\nhorizon = "7d"\n').site(
        "demo"
    )
    assert (site.www, site.trailing_slash, site.horizon) == ("strip", "strip", 7 * 86400)
    with pytest.raises(ConfigError, match=r"site\[0\].www: expected one of keep, strip, add"):
        parse_config(MINIMAL + 'www = "drop"\n')


def test_ignoring_robots_is_per_site_and_logged_at_start(caplog: pytest.LogCaptureFixture) -> None:
    from jobs.app import fetch_settings, log_policy

    config = parse_config(
        MINIMAL + "respect_robots = false\n" + MINIMAL.replace('"demo"', '"other"')
    )
    with caplog.at_level("WARNING"):
        log_policy(config)
    assert [r.getMessage() for r in caplog.records] == [
        "site=demo robots.txt is IGNORED by configuration"
    ]
    settings = fetch_settings(config.fetch)
    assert (
        settings.respect_robots
        and settings.response_time_factor == 5.0
        and settings.crawl_delay_cap == 300
    )
