"""No plaintext secrets anywhere: credentials are always references to Secrets."""
from __future__ import annotations

import bisect
import itertools
import re
from typing import Any, Iterator, Sequence

from renderer.catalog.nodes import PList, PMap
from renderer.errors import Mark, Problem, format_path

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
# The names a secret goes by: as a key ("password", "ssl.key.passphrase", "oauth.client.secret",
# "client_secret", but not "clientSecret", which names a Secret in the catalog), and in a value.
KEY_WORDS = r"passw(?:or)?d|pwd|passphrase|secret[_-]?access[_-]?key|private[_-]?key|api[_-]?key|token"
VALUE_WORDS = r"password|passwd|pwd|passphrase|client[_-]secret|secret[_-]key|api[_-]key|token"
SECRET_KEY = re.compile(rf"(?i)({KEY_WORDS})\Z|(^|[._-])secret\Z")
# A secret inside a value: JAAS ("password=\"p\""), command-line flags ("--oidc-client-secret=s").
SECRET_IN_VALUE = re.compile(rf"(?i)(^|[\s;,\"'-])({VALUE_WORDS})"
                             r"\s*=\s*[\"']?[^\s\"';,$:{(]")  # a literal, not a variable ($X, :'x', {{ }})
# What a rendered object's YAML holds wherever the two above find something (a superset): a key
# that ends in a secret's name and has a value on its line (emit writes a mapping or a list on
# the lines below: CloudNativePG's secretAccessKey, a Secret's reference), or a secret assigned
# in a value (between the name and its "=", what a blank is in YAML: itself, an escape, or any
# character beyond ASCII).  Looked for in the bytes, in lower case, in one pass (ignoring case
# costs 30 times as much): nine objects in ten hold none, and walking their strings cost a tenth
# of a render.
_IN_YAML = re.compile(rf"(?P<word>{KEY_WORDS}|{VALUE_WORDS}|secret)".encode()
                      + rb'(?:(?P<key>"?:(?!\n))|(?:\s|\\[ntrfb]|\\u[0-9a-f]{4}|[\x80-\xff])*=)')
# What every word above holds ("api" alone is in every object's apiVersion), at its start but in
# "client-secret".
_STEMS = (b"pass", b"pwd", b"secret", b"private", b"api_key", b"api-key", b"apikey", b"token")
# The letters beyond ASCII that Python's patterns take for s, k and i when ignoring case, in UTF-8.
_ALSO_ASCII = ((b"\xc5\xbf", b"s"), (b"\xe2\x84\xaa", b"k"), (b"\xc4\xb0", b"i"), (b"\xc4\xb1", b"i"))


def may_hold_secret(content: bytes) -> bool:
    """Whether an object's YAML may hold a key, URL or value that ``secret_key`` or ``secret_in``
    would find in the object (False: it holds none)."""
    text = _lowered(content)
    return (b"://" in text and b"@" in text) or next(_word_starts(text), None) is not None


def may_hold_secrets(contents: Sequence[bytes]) -> list[bool]:
    """``may_hold_secret`` of each object's YAML, looked for in their text joined (a unit's: each
    stem searched for once, not once in each object; the search is most of the cost).  Joined by
    a NUL: dbfleet writes none (YAML and JSON escape it), and no match runs over one."""
    joined = b"\0".join(contents)
    text = _lowered(joined)
    if len(text) != len(joined):  # letters beyond ASCII became ASCII ones: where each object starts moved
        return [may_hold_secret(content) for content in contents]
    starts = list(itertools.accumulate((len(content) + 1 for content in contents[:-1]), initial=0))
    found = [False] * len(contents)
    for at in _word_starts(text):
        found[bisect.bisect_right(starts, at) - 1] = True
    if b"://" in text and b"@" in text:
        for index, content in enumerate(contents):
            found[index] = found[index] or (b"://" in content and b"@" in content)
    return found


def _lowered(content: bytes) -> bytes:
    text = content.lower()
    if not text.isascii() and (b"\xc4" in text or b"\xc5" in text or b"\xe2\x84" in text):
        for letter, ascii_letter in _ALSO_ASCII:
            text = text.replace(letter, ascii_letter)
    return text


def _word_starts(text: bytes) -> Iterator[int]:
    """Where in ``text`` (lower case) a key or a value that _IN_YAML finds starts.  The pattern is
    tried where a word can start, found by scanning for its stems: searched for from the start,
    it tries every alternative at every position (5 times as slow)."""
    for stem in _STEMS:
        at = text.find(stem)
        while at != -1:
            starts = (at, at - len(b"client-")) if stem == b"secret" and at >= len(b"client-") else (at,)
            for start in starts:
                found = _IN_YAML.match(text, start)
                # A key named secret, or ending in .secret, _secret or -secret (not clientSecret: a
                # Secret's name); a NUL starts an object joined to others.
                if found and (not (found.group("key") and found.group("word") == b"secret") or start == 0
                              or text[start - 1] in b' \t\n"._-\0'):
                    yield start
            at = text.find(stem, at + 1)


# What each key and string was found to be: keys and values repeat across entries and objects.
_KEYS: dict[str, bool] = {}
_VALUES: dict[str, str | None] = {}
_MAX_REMEMBERED = 200_000


def secret_key(key: str) -> bool:
    """A key whose value is a secret."""
    found = _KEYS.get(key)
    if found is None:
        found = bool(SECRET_KEY.search(key))
        if len(_KEYS) < _MAX_REMEMBERED:
            _KEYS[key] = found
    return found


def secret_in(text: str) -> str | None:
    """"url" for a URL with a password, "value" for a value that carries a secret, else None."""
    if text in _VALUES:
        return _VALUES[text]
    found = "url" if has_url_password(text) else "value" if SECRET_IN_VALUE.search(text) else None
    if len(_VALUES) < _MAX_REMEMBERED:
        _VALUES[text] = found
    return found


# Where the walk is: (where its parent is, key or index), unrolled only for a problem's message.
Trail = tuple[Any, ...]
# What a string found to carry a secret (secret_in) is told.
_CARRIES = {"url": "the URL carries a password; remove it and reference a Secret",
            "value": "the value carries a secret (a password, passphrase, token or client secret); reference a Secret instead"}


def _steps(trail: Trail) -> list[Any]:
    steps = []
    while trail:
        trail, step = trail
        steps.append(step)
    return steps[::-1]


def _walk(node: PMap | PList, trail: Trail, found: list[Problem]) -> None:
    """Every string and every value of a secret-named key under ``node``, each looked at here, not
    in a call of its own (25,000 values at 1,000 clusters)."""
    is_map = isinstance(node, PMap)
    for key, value in node.items() if isinstance(node, PMap) else enumerate(node):
        if is_map and secret_key(str(key)) and isinstance(value, (str, int, float)) and value != "":
            message = f"a {key!r} value in Git is a plaintext secret; put it in a Secret and reference the Secret by name"
        elif isinstance(value, str) and (what := secret_in(value)):
            message = _CARRIES[what]
        else:
            if isinstance(value, (PMap, PList)):
                _walk(value, (trail, key), found)
            continue
        found.append(Problem(_mark(node, key), f"{format_path(_steps((trail, key)))}: {message}"))


def _mark(node: PMap | PList, key: Any) -> Mark:
    """Where the value of ``key`` (an index, in a list) was written."""
    return node.keymarks.get(key, node.mark) if isinstance(node, PMap) else node.itemmarks[key]


def check(spec: PMap) -> Iterator[Problem]:
    found: list[Problem] = []
    _walk(spec, (), found)
    return iter(found)
