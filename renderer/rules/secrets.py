"""No plaintext secrets anywhere: credentials are always references to Secrets."""
from __future__ import annotations

import re
from typing import Any, Iterator

from renderer.errors import Mark, Problem
from renderer.positioned import PList, PMap, format_path

ID = "secrets"

# The user information of a URL with a password, right after a "://": matched at each "://" in
# turn, so the time is linear in the value's length (a pattern searched for its scheme too
# backtracks over every start: 12.8 s for 100 KB).
USERINFO = re.compile(r"[^/\s:@]*:[^/\s@]+@")


def has_url_password(text: str) -> bool:
    start = text.find("://")
    while start != -1:
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "+.-") and USERINFO.match(text, start + 3):
            return True
        start = text.find("://", start + 3)
    return False
# A key whose value is a secret: "password", "ssl.key.passphrase", "oauth.client.secret",
# "client_secret" (but not "clientSecret", which names a Secret in the catalog).
SECRET_KEY = re.compile(r"(?i)(passw(or)?d|pwd|passphrase|secret[_-]?access[_-]?key|private[_-]?key|api[_-]?key|token)\Z"
                        r"|(^|[._-])secret\Z")
# A secret inside a value: JAAS ("password=\"p\""), command-line flags ("--oidc-client-secret=s").
SECRET_IN_VALUE = re.compile(r"(?i)(^|[\s;,\"'-])(password|passwd|pwd|passphrase|client[_-]secret|secret[_-]key|api[_-]key|token)"
                             r"\s*=\s*[\"']?[^\s\"';,$:{(]")  # a literal, not a variable ($X, :'x', {{ }})


def _walk(node: Any, path: list[Any], mark: Mark) -> Iterator[Problem]:
    if isinstance(node, PMap):
        for key, value in node.items():
            key_mark = node.keymarks.get(key, node.mark)
            here = path + [key]
            if SECRET_KEY.search(str(key)) and isinstance(value, (str, int, float)) and value != "":
                yield Problem(
                    key_mark,
                    f"{format_path(here)}: a {key!r} value in Git is a plaintext secret; "
                    "put it in a Secret and reference the Secret by name",
                )
                continue
            yield from _walk(value, here, key_mark)
    elif isinstance(node, PList):
        for i, (value, item_mark) in enumerate(zip(node, node.itemmarks)):
            yield from _walk(value, path + [i], item_mark)
    elif isinstance(node, str) and has_url_password(node):
        yield Problem(
            mark,
            f"{format_path(path)}: the URL carries a password; remove it and reference a Secret",
        )
    elif isinstance(node, str) and SECRET_IN_VALUE.search(node):
        yield Problem(mark, f"{format_path(path)}: the value carries a secret (a password, passphrase, token or "
                            "client secret); reference a Secret instead")


def check(spec: PMap) -> Iterator[Problem]:
    yield from _walk(spec, [], spec.mark)
