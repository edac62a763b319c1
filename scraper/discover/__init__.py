"""Discovery: bytes of a feed, sitemap or listing page → article URLs. Pure, no I/O.

``xml`` (safe, lenient XML parsing), ``html`` (parse and base URL), ``feeds``, ``sitemaps``,
``listings``.
"""
