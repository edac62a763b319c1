"""Every generic selector and class-name word the extractor knows, in one place.

Generic means: true of many sites and CMSs, never of one. A selector that only one site uses
belongs in that site's profile (``scraper/profiles/*.toml``); this module holds the words that
web pages in general use for their widgets, bodies, sapos, dates and captions. Selectors are
plain strings compiled by lexbor; word lists are matched as whole words of a class/id value.
"""

from __future__ import annotations

import re

# --- removed before anything is read --------------------------------------------------------

#: tags that are never article text, in every mode (not "form": ASP.NET wraps whole pages in one)
DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "video", "audio", "button", "input", "select", "textarea", "map",
)  # fmt: skip
#: hidden elements and share widgets, removed in every mode
ALWAYS_DROP_CSS = (
    "[hidden], [style*='display:none'], [style*='display: none'], #stringrating, .fb-like, "
    ".zalo-share-button"
)
#: structural chrome removed before the generic scorer runs (kept when it holds the body)
STRUCTURAL_DROP_CSS = "nav, header, footer, aside, menu, dialog"
#: embedded boxes that announce a related article by a type attribute
RELATED_BOX_CSS = "[type*=related i], [data-type*=related i]"

# --- widgets by class/id words ---------------------------------------------------------------

#: STRONG words name a widget whatever else the value says ("news-related")
CHROME_NODE_RE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|comments?|binh-?luan|rating|stringrating|"
    # "related" glued to other words as well: "jp-relatedposts", "RelatedContent",
    # "contentRelatedArea" (but not "unrelated", "correlated", "interrelated")
    r"[a-z0-9]*(?<!un)(?<!cor)(?<!inter)related[a-z0-9]*|relate|relation|lien-?quan|"
    r"other-?news|othernews|tin-?khac|"
    r"cung-?chuyen-?muc|"
    r"breadcrumbs?|pagination|pager|newsletter|subscribe|advert|ads|adsbygoogle|banner|"
    r"sponsor|sponsored|popup|modal|login|captcha|fb-like|zalo|recommend|most-?read|"
    r"xem-?them|readmore)(?:$|[\s_-])",
    re.IGNORECASE,
)
#: WEAK words also occur in names of article containers ("article-header"): KEEP words protect
WEAK_NODE_RE = re.compile(
    r"(?:^|[\s_-])(?:print|toolbar|tags?|keywords?|footer|header|navbar|menu|sidebar|widget|"
    r"audio|player)(?:$|[\s_-])",
    re.IGNORECASE,
)
KEEP_NODE_RE = re.compile(
    r"(?:^|[\s_-])(?:content|body|article|detail|entry|post|main)(?:$|[\s_-])", re.IGNORECASE
)
#: substrings that make a class/id worth the whole-word test above (a cheap pre-filter, as
#: lexbor's case-sensitive ``[class*=...]`` would find them)
CHROME_CLASS_WORDS = (
    "share", "social", "comment", "related", "Related", "relate", "rating", "banner",
    "breadcrumb", "tag", "menu", "footer", "header", "sidebar", "login", "captcha", "other-news",
    "popup", "modal", "ads", "widget",
)  # fmt: skip
CHROME_ID_WORDS = (
    "share", "comment", "related", "Related", "rating", "banner", "menu", "footer", "header",
    "sidebar", "ads",
)  # fmt: skip

# --- the body scorer ---------------------------------------------------------------------------

#: class/id words of containers that hold an article's text, and of those that never do
#: (Readability's lists, trimmed to whole words): a candidate's score is nudged by them
POSITIVE_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|"
    r"detail|noi-?dung|chi-?tiet)(?:$|[\s_-])",
    re.IGNORECASE,
)
NEGATIVE_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:hidden|banner|combx|comments?|com-|contact|foot|footer|footnote|masthead|"
    r"media|meta|outbrain|promo|related|scroll|shoutbox|sidebar|skyscraper|sponsor|shopping|"
    r"tags?|tool|widget|teaser|byline|author|dateline)(?:$|[\s_-])",
    re.IGNORECASE,
)
#: what a paragraph is, for the first (cheap) scoring stage
PARAGRAPH_CSS = "p, pre, blockquote"
#: elements that may hold paragraph text directly (no <p>), for the second scoring stage
TEXT_HOLDER_CSS = "div, section, article, td, span, font, center, dd, li, main"
#: how much a candidate starts with, by tag (Readability's initial scores)
TAG_WEIGHTS = {
    "div": 5.0, "article": 5.0, "section": 3.0, "main": 3.0, "pre": 3.0, "td": 3.0,
    "blockquote": 3.0, "address": -3.0, "ol": -3.0, "ul": -3.0, "dl": -3.0, "dd": -3.0,
    "dt": -3.0, "li": -3.0, "form": -3.0, "h1": -5.0, "h2": -5.0, "h3": -5.0, "h4": -5.0,
    "h5": -5.0, "h6": -5.0, "th": -5.0,
}  # fmt: skip
INLINE_TAGS = frozenset(
    ["span", "font", "a", "b", "i", "em", "strong", "u", "small", "big", "sup", "sub", "mark"]
)
#: what a paragraph holds besides text (a div of only these reads as a paragraph)
PHRASING_TAGS = INLINE_TAGS | frozenset([
    "br", "wbr", "img", "code", "abbr", "time", "q", "cite", "s", "del", "ins", "kbd", "var",
    "samp", "dfn", "data", "bdi", "bdo", "tt", "strike",
])  # fmt: skip

# --- fields by class name -----------------------------------------------------------------------

SAPO_CSS = (
    "[data-role=sapo], [data-slot=sapo], [itemprop=description], .sapo, .detail-sapo, "
    ".article__sapo, .article-sapo, .news-sapo, .sapo_detail, .content-detail-sapo, "
    "p.description, .hometext, #hometext, .brief, .lead, .chapeau, .summary, .excerpt, .desc"
)
DATE_CSS = (
    "[data-role=publishdate], [itemprop=datePublished], .publish-date, .post-time, .pdate, "
    ".date, .time, .detail-time, .post-date, .entry-date, .datetime, .ngay-dang, span.h5, "
    "[class*=date], [class*=time]"
)
#: a visible byline by class name (preferred over a CMS account name in the metadata)
AUTHOR_CSS = (
    "[rel=author], [itemprop=author] [itemprop=name], [data-role=author], .author-name, .author, "
    ".tac-gia, .tacgia, .byline, .news-author, .article-author, .post-author"
)
BREADCRUMB_CSS = "[class*=breadcrumb] li:last-child, [class*=breadcrumb] a:last-child"

# --- captions -----------------------------------------------------------------------------------

CAPTION_CSS = "figcaption, [class*=caption], [class*=Caption], td.desc, p.desc"
CAPTION_CLASS_RE = re.compile(
    r"caption|image-?desc|img-?desc|photo-?desc|expnoedit-?caption", re.IGNORECASE
)
