"""URL canonicalization: one spelling per page, so the frontier deduplicates by string equality.

``canonicalize`` resolves a link against its page, then rewrites it the way a browser would fetch
it (lower-case scheme and host, IDNA host, no default port, dot segments removed) and drops what
never changes the page (the fragment, tracking parameters such as ``utm_*`` or Zalo's ``zarsrc``).
Percent-encoding is normalized both ways: escapes of unreserved characters are decoded, other
escapes upper-cased, and spaces and non-ASCII characters (Vietnamese slugs) encoded as UTF-8, so
``/tin-tức``, ``/tin-t%e1%bb%a9c`` and ``/tin-t%E1%BB%A9c`` are the same key. It is idempotent.

Whether ``www.`` and a trailing slash matter is a property of a site, so the profile chooses
(``www=`` and ``trailing_slash=``); the default keeps both as written.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "SlashMode",
    "WwwMode",
    "canonicalize",
    "host_of",
    "registrable_domain",
    "same_site",
]

WwwMode = Literal["keep", "strip", "add"]
SlashMode = Literal["keep", "strip", "add"]

# Parameters that identify a click, a campaign or a share, never the page. Matched
# case-insensitively; every ``utm_*`` parameter is dropped as well (see _is_tracking).
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "igshid", "srsltid", "mc_cid", "mc_eid", "_ga", "_gl",
        "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid",
        "zarsrc", "gidzl",  # Zalo shares, very common on Vietnamese news links
    }
)  # fmt: skip

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
# Characters left as they are (besides unreserved ones and valid escapes); anything else is
# percent-encoded as UTF-8.
_PATH_SAFE = frozenset(_SUB_DELIMS + ":@/")
_QUERY_SAFE = frozenset(_SUB_DELIMS + ":@/?")
_HEX = frozenset("0123456789abcdefABCDEF")
_HOST_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
# "scheme://...": nothing to resolve ("http:x" without slashes is relative, as in browsers).
_ABSOLUTE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Text that needs no escape work at all (the common case): skip the per-character loop.
_PLAIN_PATH_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_PLAIN_QUERY_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
# WHATWG URL parsing strips these anywhere in the input; browsers do, so must we.
_STRIP_CHARS_RE = re.compile("[\t\n\r]")


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, encode the rest."""
    if (safe is _PATH_SAFE and _PLAIN_PATH_RE.fullmatch(text)) or (
        safe is _QUERY_SAFE and _PLAIN_QUERY_RE.fullmatch(text)
    ):
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith("utm_")


def _normalize_query(query: str) -> str:
    kept: list[str] = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = pair.split("=", 1)[0]
        if _is_tracking(_normalize_escapes(key, _QUERY_SAFE)):
            continue
        kept.append(_normalize_escapes(pair, _QUERY_SAFE))
    return "&".join(kept)


def _normalize_host(parts: SplitResult, url: str) -> str:
    host = parts.hostname  # lower-cased by urllib, brackets of an IPv6 literal removed
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host.split('%', 1)[0]).compressed}]"
        except ValueError as exc:
            raise ValueError(f"bad IPv6 host in {url!r}") from exc
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"bad international host in {url!r}") from exc
    if not _HOST_RE.match(host):
        raise ValueError(f"bad host in {url!r}")
    return host


def _is_ip(host: str) -> bool:
    if host.startswith("["):
        return True
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _split(url: str, base: str | None) -> SplitResult:
    url = _STRIP_CHARS_RE.sub("", url).strip(" \x00\x0b\x0c")
    if "\\" in url:
        # Browsers read a backslash before the query as a slash, even around the host.
        cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
        url = url[:cut].replace("\\", "/") + url[cut:]
    if base is not None and not _ABSOLUTE_RE.match(url):
        base = _STRIP_CHARS_RE.sub("", base).strip()
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return parts._replace(scheme=scheme)


def canonicalize(
    url: str,
    *,
    base: str | None = None,
    www: WwwMode = "keep",
    trailing_slash: SlashMode = "keep",
) -> str:
    """The canonical spelling of ``url`` (resolved against ``base`` when given).

    Raises ValueError for a URL that is not http(s) or has no usable host.
    ``www="add"`` only prefixes domain names (not IP addresses or single-label hosts);
    ``trailing_slash="add"`` only touches paths whose last segment has no extension
    (``/tin-tuc`` becomes ``/tin-tuc/``, ``/bai-viet-123.html`` stays).
    """
    parts = _split(url, base)
    host = _normalize_host(parts, url)
    if www == "strip":
        host = _site_key(host)
    elif www == "add" and not host.startswith("www.") and "." in host and not _is_ip(host):
        host = "www." + host
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}") from exc
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        netloc = f"{host}:{port}"
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{_normalize_escapes(userinfo, frozenset(_SUB_DELIMS + ':'))}@{netloc}"

    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    if path != "/":
        if trailing_slash == "strip":
            path = path.rstrip("/") or "/"
        elif trailing_slash == "add" and "." not in path.rsplit("/", 1)[-1] and path[-1] != "/":
            path += "/"
    query = _normalize_query(parts.query)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """The normalized host of ``url`` (lower-case, IDNA, no port). Raises ValueError like
    canonicalize."""
    return _normalize_host(_split(url, None), url)


def port_of(url: str) -> int:
    """The port ``url`` is served on, its scheme's default when it names none. Raises ValueError
    like canonicalize."""
    parts = _split(url, None)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}") from exc
    return port if port is not None else _DEFAULT_PORTS[parts.scheme]


def _site_key(host: str) -> str:
    # every leading "www." (so stripping is idempotent), but never down to a bare TLD
    while host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host


def same_site(url: str, base_url: str) -> bool:
    """True when both URLs are http(s) on the same host, ignoring a ``www.`` prefix.

    Subdomains are different sites (``video.vnexpress.net`` is not ``vnexpress.net``): a listing
    page's sections on other hosts are other sources. An unparseable URL is never the same site.
    """
    try:
        return _site_key(host_of(url)) == _site_key(host_of(base_url))
    except ValueError:
        return False


# Public suffixes of more than one label that vnnews meets: Vietnam's second-level domains
# (VNNIC's list) and a few foreign ones. A single-label suffix (.vn, .com) needs no entry.
MULTI_LABEL_SUFFIXES: frozenset[str] = frozenset(
    {
        "com.vn", "net.vn", "org.vn", "edu.vn", "gov.vn", "int.vn", "ac.vn", "biz.vn",
        "info.vn", "name.vn", "pro.vn", "health.vn",
        "co.uk", "org.uk", "com.au", "net.au", "co.jp", "com.cn", "com.sg", "co.kr",
    }
)  # fmt: skip


def registrable_domain(host_or_url: str) -> str:
    """The domain a registrant owns: ``www.baodongnai.com.vn`` → ``baodongnai.com.vn``,
    ``sonoivu.laocai.gov.vn`` → ``laocai.gov.vn``, ``media.baolaocai.vn`` → ``baolaocai.vn``.

    Accepts a URL or a bare host (any port dropped). An IP address or a single-label host is its
    own registrable domain. Two hosts with the same registrable domain are one publisher; a
    redirect that changes it is a move. Raises ValueError for an unusable URL. Pure.
    """
    text = host_or_url.strip()
    if "://" in text:
        host = host_of(text)
    else:
        host = text.lower().rstrip(".")
        if host.startswith("["):
            return host.split("]", 1)[0] + "]"
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if not host or not _HOST_RE.match(host):
            raise ValueError(f"bad host {host_or_url!r}")
    if _is_ip(host):
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    two = ".".join(labels[-2:])
    keep = 3 if two in MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])
