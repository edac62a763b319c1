"""A near-duplicate test set from the real golden articles: realistic edits of each one
(positives) and distinct articles, alone or wearing the same site chrome (negatives)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.paths import GOLDEN

HEADER = (
    "Trang chủ Thời sự Chính trị Kinh tế Xã hội Văn hóa Thể thao Pháp luật Quốc phòng An ninh "
    "Nông nghiệp Nông thôn mới Y tế Giáo dục Du lịch Đăng nhập Tìm kiếm Thứ Sáu ngày 6 tháng 3"
)
FOOTER = (
    "Cơ quan chủ quản: Ủy ban nhân dân tỉnh. Giấy phép số 123/GP-BTTTT. Địa chỉ: số 5 đường "
    "Hoàng Liên, phường Cốc Lếu. Điện thoại: 0214 3820 111. Ghi rõ nguồn khi phát hành lại "
    "thông tin từ cổng thông tin này. Bản quyền thuộc về Cổng thông tin điện tử tỉnh."
)


@dataclass(frozen=True)
class Story:
    name: str
    site: str
    title: str
    sapo: str
    text: str


def stories() -> list[Story]:
    out = []
    for path in sorted(GOLDEN.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            Story(path.name, path.parent.name, data["title"], data.get("sapo") or "", data["text"])
        )
    return out


def _paras(s: Story) -> list[str]:
    return [p for p in s.text.split("\n") if p.strip()]


def _with(s: Story, paras: list[str], title: str | None = None) -> Story:
    return Story(s.name, s.site, title or s.title, s.sapo, "\n\n".join(paras))


def chrome_added(s: Story) -> Story:
    return _with(s, [HEADER, *_paras(s), FOOTER])


def chrome_removed(s: Story) -> Story:
    paras = _paras(s)
    return _with(s, paras[1:-1] if len(paras) > 4 else paras[:-1])


def reordered(s: Story) -> Story:
    paras = _paras(s)
    half = len(paras) // 2
    return _with(s, paras[half:] + paras[:half])


def captions_changed(s: Story) -> Story:
    paras = _paras(s)
    paras.insert(1, "Ảnh minh họa: Quang cảnh buổi làm việc. (Ảnh: Cổng TTĐT tỉnh)")
    paras.insert(len(paras) // 2, "Đồng chí Phó Chủ tịch UBND tỉnh phát biểu tại hội nghị. Ảnh: PV")
    return _with(s, paras)


def paragraph_edited(s: Story) -> Story:
    paras = _paras(s)
    i = max(range(len(paras)), key=lambda k: len(paras[k]))
    words = paras[i].split()
    words[::7] = ["đã"] * len(words[::7])  # one word in seven replaced
    paras[i] = " ".join(words)
    return _with(s, paras)


def source_appended(s: Story) -> Story:
    return _with(s, [*_paras(s), "Theo Báo Lào Cai"], title=s.title + " (Theo Báo Lào Cai)")


def republished(s: Story) -> Story:
    """All of it at once: a department portal's copy with its own chrome and credit."""
    return source_appended(captions_changed(chrome_added(chrome_removed(s))))


EDITS: tuple[Callable[[Story], Story], ...] = (
    chrome_added, chrome_removed, reordered, captions_changed, paragraph_edited,
    source_appended, republished,
)  # fmt: skip


def pairs() -> list[tuple[Story, Story, bool]]:
    """(a, b, same story?) for every edit of every story and every two distinct stories."""
    all_stories = stories()
    out = [(s, edit(s), True) for s in all_stories for edit in EDITS]
    for i, a in enumerate(all_stories):
        for b in all_stories[i + 1 :]:
            out.append((a, b, False))
            # the hard negatives: two stories of one portal, both wearing its chrome
            out.append((chrome_added(a), chrome_added(b), False))
    return out
