"""CLI commands about one page or site, outside the archive: extract, probe."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from jobs.config import SiteConfig
from jobs.context import Ctx
from jobs.display import print_article
from scraper.errors import ContentTypeError, VnnewsError


@click.command()
@click.argument("file_or_url")
@click.option(
    "--url", "page_url", help="The page's URL (for a file): picks the site profile, resolves links."
)
@click.option(
    "--site",
    "profile_name",
    help="Extract as this site: a [[site]] of sources.toml (its profile, its name), else the "
    "profile of that name; instead of choosing by URL.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_obj
def extract(
    obj: Ctx, file_or_url: str, page_url: str | None, profile_name: str | None, as_json: bool
) -> None:
    """Extract the article from FILE_OR_URL (a saved page, or a URL fetched now)."""
    from scraper.extract import extract_article, require_article
    from scraper.profiles import SiteProfile, load_profiles

    is_url = file_or_url.lower().startswith(("http://", "https://"))
    if page_url is not None:  # checked before anything is fetched or read
        if is_url:
            raise click.BadParameter(
                "is for a saved page: a URL given as FILE_OR_URL is its own", param_hint="--url"
            )
        _require_url(page_url, "--url", "the page's original URL (http:// or https://)")
    site = _named_site(obj, profile_name) if profile_name is not None else None
    profile: SiteProfile | None = None
    if site is not None:
        profile = site.site_profile()
    elif profile_name is not None:  # an unknown name fails before any fetch
        registry = load_profiles()
        if profile_name not in registry.names():
            config = obj.config_if_any
            sites = ", ".join(s.name for s in config.sites) if config else ""
            raise click.BadParameter(
                f"no [[site]] or profile named {profile_name!r} (sites: {sites or 'none'}; "
                f"profiles: {', '.join(registry.names())})",
                param_hint="--site",
            )
        profile = registry.get(profile_name)
    html: str | bytes
    if is_url:
        _require_url(
            file_or_url, "FILE_OR_URL", "a page's URL (http:// or https://) or a saved page"
        )
        html, page_url = _fetch_one(obj, file_or_url)
    else:
        path = Path(file_or_url)
        limit = _max_bytes(obj)
        try:
            with path.open("rb") as f:
                html = f.read(limit + 1)  # /dev/zero, a 3 GB dump: never more than the cap
        except FileNotFoundError:  # a mistyped name is a usage error (exit 2), as a bad URL is
            raise click.BadParameter(
                f"{path}: no such file (give a saved page, or an http(s) URL)",
                param_hint="FILE_OR_URL",
            ) from None
        except OSError as exc:
            raise VnnewsError(f"{path}: cannot read: {exc.strerror}") from None
        if len(html) > limit:
            raise VnnewsError(f"{path}: larger than {limit} bytes (fetch.max_bytes)")
        page_url = page_url or path.resolve().as_uri()
    if profile_name is None:
        site = _configured_site(obj, page_url)
        if site is not None:  # as the crawler extracts the site's pages: its profile, its name
            from jobs.domains import page_profile

            profile = page_profile(site, site.site_profile(), page_url)
    # a listing page exits non-zero with one line (the crawler's not_article rule)
    article = require_article(extract_article(html, page_url, profile))
    if site is not None:
        article.site = site.name
    if as_json:
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
        return
    print_article(article.to_dict())


def _named_site(obj: Ctx, name: str) -> SiteConfig | None:
    """The sources.toml [[site]] called ``name``, if there is a sources.toml and one is."""
    config = obj.config_if_any
    return next((s for s in config.sites if s.name == name), None) if config else None


def _configured_site(obj: Ctx, url: str) -> SiteConfig | None:
    """The sources.toml [[site]] whose pages ``url`` is, as the crawler would file it: on its
    host and port, else on its domains and aliases (same port); among several (two sites on
    one host), the first whose ``article_pattern`` the URL matches, else the first listed.
    None without a sources.toml or for a saved page without ``--url``."""
    from jobs.domains import is_article_url, is_own
    from scraper.urls import host_of, port_of

    config = obj.config_if_any
    try:
        host, port = host_of(url), port_of(url)
    except ValueError:  # a file:// URL
        return None
    if config is None:
        return None
    sites = [s for s in config.sites if port_of(s.base_url) == port]
    mine = [s for s in sites if host_of(s.base_url) == host] or [s for s in sites if is_own(s, url)]
    return next((s for s in mine if is_article_url(s, url)), mine[0] if mine else None)


def _require_url(value: str, param: str, what: str) -> None:
    """A usage error (exit 2) unless ``value`` is an http(s) URL with a host, checked before
    anything is fetched (the fetcher's refusal, "blocked scheme '(none)'", says less)."""
    from scraper.urls import canonicalize

    try:
        canonicalize(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a URL: give {what}", param_hint=param) from None


def _max_bytes(obj: Ctx) -> int:
    """The configured body cap, or the default when there is no sources.toml to read."""
    from jobs.config import FetchConfig

    config = obj.config_if_any
    return config.fetch.max_bytes if config is not None else FetchConfig().max_bytes


@click.command()
@click.argument("url")
@click.option(
    "--articles",
    "max_articles",
    default=3,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Extract this many sample articles.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def probe(obj: Ctx, url: str, max_articles: int, as_json: bool) -> None:
    """Look at a site's home page and suggest its [[site]] block (and a profile skeleton).

    Finds feeds, sitemaps, the article URL shape, likely section pages and the CMS, and
    extracts a few articles. Fetches politely, honouring robots.txt.
    """
    from jobs.app import build_fetcher
    from jobs.config import Config
    from jobs.probe import probe as run_probe
    from jobs.probe import render_profile, render_site_block, render_summary

    _require_url(url, "URL", "a site's home page, starting http:// or https://")
    config = obj.config_if_any or Config(path=obj.config_path)

    async def main() -> Any:
        async with build_fetcher(config) as fetcher:
            return await run_probe(fetcher, url, max_articles=max_articles)

    report = asyncio.run(main())
    if as_json:
        data = report.to_dict()
        data["site_block"] = render_site_block(report)
        data["profile_skeleton"] = render_profile(report)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(render_summary(report))
    click.echo("# suggested sources.toml entry")
    click.echo(render_site_block(report))
    skeleton = render_profile(report)
    if skeleton is not None:
        click.echo(f"# suggested scraper/profiles/{report.name}.toml (no profile fits this site)")
        click.echo(skeleton)


def _fetch_one(obj: Ctx, url: str) -> tuple[str, str]:
    from jobs.app import build_fetcher
    from jobs.config import Config
    from jobs.probe import feed_or_sitemap

    config = obj.config_if_any or Config(path=obj.config_path)

    async def main() -> tuple[str, str]:
        async with build_fetcher(config) as fetcher:
            try:
                result = await fetcher.fetch(url)
            except ContentTypeError as refused:
                # a feed or sitemap URL: its XML goes to the extractor, which names what it is
                # and where it belongs ("a feed (<rss>): list it under a [[site]]'s feeds");
                # anything else (other XML, JSON, text) stays refused for its content type
                found = await feed_or_sitemap(fetcher, url)
                if found is None:
                    raise refused from None
                result = found[0]
        if result.status != 200:
            raise VnnewsError(f"HTTP {result.status}", url=url)
        return result.text(), result.final_url

    return asyncio.run(main())
