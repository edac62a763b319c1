"""Fetching: the one httpx client and the pure policies it composes.

``client`` (the Fetcher: guard, robots, politeness, retries, limits, conditional GET),
``encoding`` (bounded Content-Encoding decoders), ``guard`` (private addresses), ``robots``,
``politeness`` (per-host delay) and ``retry`` (pure retry decisions).
"""

from scraper.fetch.client import Fetcher, FetchSettings
from scraper.fetched import FetchResult

__all__ = ["FetchResult", "FetchSettings", "Fetcher"]
