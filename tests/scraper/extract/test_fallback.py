"""A profile whose body selector fails (a redesign) falls back to the generic stages and says
so in ``Article.extractor``: the daemon counts those pages toward layout rot."""

from __future__ import annotations

import pytest

from scraper import extract_article
from scraper.profiles import SiteProfile, load_profiles, parse_profiles
from tests.support.paths import REAL, golden

PAGE = "vnexpress.net/meth04-article.html"
URL = "https://vnexpress.net/cach-cac-nuoc-doi-pho-5047363.html"


def _profile(body: str) -> SiteProfile:
    return parse_profiles(
        f'[[profile]]\nname = "redesigned"\ndomains = ["vnexpress.net"]\n'
        f"[profile.selectors]\nbody = [{body!r}]\n"
    )[0]


@pytest.mark.parametrize("body", ["div.no-such-class", "h1"])  # matches nothing / far too little
def test_a_failing_body_selector_falls_back_and_is_labelled(body: str) -> None:
    article = extract_article((REAL / PAGE).read_bytes(), URL, _profile(body))
    assert article.extractor == "generic(fallback:profile:redesigned@1)"
    expected = str(golden(PAGE)["last_paragraph"])
    assert expected[:60] in article.text  # the generic stages found the article


def test_a_working_profile_is_not_a_fallback() -> None:
    profile = load_profiles().get("vnexpress")
    article = extract_article((REAL / PAGE).read_bytes(), URL, profile)
    assert article.extractor == profile.label
