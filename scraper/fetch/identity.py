"""Who vnnews says it is: the User-Agent names vnnews and how to reach whoever runs it."""

from __future__ import annotations

DEFAULT_CONTACT = "https://github.com/vnnews/vnnews"


def user_agent_for(contact: str) -> str:
    return f"vnnews/0.1 (+{contact}; archiving Vietnamese provincial news)"


DEFAULT_USER_AGENT = user_agent_for(DEFAULT_CONTACT)
