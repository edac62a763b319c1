"""sources.toml validation: each mistake is one error naming the file and the key."""

from __future__ import annotations

import re
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
        (
            "[fetch]\nmax_bytes = -1\n" + MINIMAL,
            r"fetch.max_bytes: must be a finite number between 1 and 1000000000 \(got -1\)",
        ),
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
        (
            MINIMAL + "every = '10s'\n",
            r"site\[0\].every: must be between 1m and 30d \(got 10s\)",
        ),
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


def test_a_site_error_names_the_site_too() -> None:
    text = MINIMAL + MINIMAL.replace('"demo"', '"baolangson"') + "every = '5x'\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "sources.toml")
    assert str(err.value) == (
        "sources.toml: site[1].every: bad duration '5x' (use e.g. '0.5s', '30s', '15m', '1h', "
        "'1d', '1h30m'); in site 'baolangson'"
    )
    # a hostile name is cut short, a missing or non-string one is left out
    for name in ("'" + "x" * 5000 + "'", "1"):
        with pytest.raises(ConfigError) as err:
            parse_config(f"[[site]]\nname = {name}\nevery = '5x'\n", "sources.toml")
        assert len(str(err.value)) < 200


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("45s", 45),
        (5, 5),
        ("3600", 3600),
        ("0.5s", 0.5),
        ("1.5h", 5400),
        ("0.25", 0.25),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("'10s'", "10s"),
        ("'30'", "30s"),
        (2592090, "30d1m30s"),
        (2592000.5, "30d0.5s"),
        (1e300, "1e+300s"),
        ("'1d1h'", "1d1h"),
    ],
)
def test_a_duration_out_of_range_is_said_as_a_duration(value: object, said: str) -> None:
    text = MINIMAL + f"every = {value}\n".replace("'", '"')
    if said == "1d1h":  # in range: no error
        assert parse_config(text, "sources.toml").site("demo").every == 90000
        return
    with pytest.raises(
        ConfigError, match=rf"must be between 1m and 30d \(got {re.escape(said)}\); in site 'demo'$"
    ):
        parse_config(text, "sources.toml")


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
        settings.respect_robots and settings.delay_factor == 5.0 and settings.crawl_delay_cap == 300
    )


def test_a_site_named_after_its_profile_needs_nothing_else() -> None:
    site = parse_config('[[site]]\nname = "baolaocai"\n').sites[0]
    assert site.base_url == "https://baolaocai.vn/" and site.profile == "baolaocai"
    assert site.feeds == ("https://baolaocai.vn/rss/home.rss",)
    assert site.listings == ("https://baolaocai.vn/",)
    assert site.article_pattern is not None
    assert site.article_pattern.search("https://baolaocai.vn/some-story-post123456.html")


def test_an_entry_overrides_its_profile_key_by_key() -> None:
    site = parse_config(
        '[[site]]\nname = "baolaocai"\nfeeds = ["https://baolaocai.vn/rss/other.rss"]\n'
        "article_pattern = '-p\\d+\\.htm$'\n"
    ).sites[0]
    assert site.feeds == ("https://baolaocai.vn/rss/other.rss",)
    assert site.listings == ("https://baolaocai.vn/",)  # not overridden: the profile's
    assert site.article_pattern is not None and site.article_pattern.pattern == "-p\\d+\\.htm$"


def test_a_profile_is_found_by_domain_when_the_name_differs() -> None:
    site = parse_config(
        '[[site]]\nname = "laocai"\nbase_url = "https://www.baolaocai.vn/"\n'
    ).sites[0]
    assert site.profile == "baolaocai" and site.feeds


def test_a_site_without_profile_or_base_url_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"site\[0\]\.base_url: missing"):
        parse_config('[[site]]\nname = "nosuchpaper"\n')


# every number in sources.toml, with the table it lives in (issue 15: inf/nan passed validation)
NUMERIC_KEYS = [
    ("fetch", "min_delay"),
    ("fetch", "timeout"),
    ("fetch", "connect_timeout"),
    ("fetch", "max_bytes"),
    ("fetch", "max_retries"),
    ("fetch", "max_redirects"),
    ("fetch", "delay_factor"),
    ("fetch", "crawl_delay_cap"),
    ("fetch", "robots_ttl"),
    ("daemon", "drain_every"),
    ("daemon", "batch"),
    ("daemon", "jitter"),
    ("site", "every"),
    ("site", "horizon"),
    ("site", "min_delay"),
]


def _with(table: str, key: str, value: str) -> str:
    if table == "site":
        return MINIMAL + f"{key} = {value}\n"
    return f"[{table}]\n{key} = {value}\n" + MINIMAL


@pytest.mark.parametrize(("table", "key"), NUMERIC_KEYS)
@pytest.mark.parametrize(
    "value", ["inf", "-inf", "nan", "1e300", "-1", "9223372036854775807", "'99999999999999d'"]
)
def test_every_number_has_a_finite_sane_range(table: str, key: str, value: str) -> None:
    integer = key in ("max_bytes", "max_retries", "max_redirects", "batch")
    duration = not integer and key != "delay_factor"
    where = "site[0]" if table == "site" else table
    expected = rf"^sources.toml: {re.escape(where)}.{key}: "
    if (integer and value in ("inf", "-inf", "nan", "1e300")) or (
        not duration and value.startswith("'")
    ):
        expected += "expected a number, got (float|str)"
    elif duration and value in ("-1", "-inf"):
        expected += "must not be negative"
    elif duration and value not in ("inf", "nan"):  # said as durations: "between 1m and 30d"
        expected += r"must be between \S+ and \S+ \(got \S+\)$"
    else:
        expected += r"must be a finite number between \S+ and \S+ \(got .+\)$"
    if table == "site":  # a site's errors end with its name
        expected = expected.removesuffix("$") + "; in site 'demo'$"
    with pytest.raises(ConfigError, match=expected):
        parse_config(_with(table, key, value), "sources.toml")


def test_a_huge_duration_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"site\[0\].horizon: duration '9{400}d' is too long"):
        parse_config(MINIMAL + f"horizon = '{'9' * 400}d'\n", "sources.toml")


@pytest.mark.parametrize(("table", "key"), NUMERIC_KEYS)
def test_the_defaults_are_within_range(table: str, key: str) -> None:
    from jobs.config import RANGES, DaemonConfig, FetchConfig, SiteConfig, check_range

    defaults = {
        "fetch": FetchConfig(),
        "daemon": DaemonConfig(),
        "site": SiteConfig("x", "https://x.vn/"),
    }
    value = getattr(defaults[table], key)
    if value is not None:
        assert check_range(f"{table}.{key}", value) is None, (key, value, RANGES[f"{table}.{key}"])


def test_an_infinite_delay_exits_2_naming_the_key(tmp_path: Path) -> None:
    from tests.support.sites import invoke

    config = tmp_path / "sources.toml"
    config.write_text("[fetch]\ndelay_factor = inf\n" + MINIMAL, encoding="utf-8")
    code, out = invoke(f"sqlite:///{tmp_path / 'x.db'}", config, "crawl")
    assert code == 2
    assert out.strip() == (
        f"vnnews: {config}: fetch.delay_factor: must be a finite number between 0 and 100 (got inf)"
    )
