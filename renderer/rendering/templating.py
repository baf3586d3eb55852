"""Jinja2 templates whose every ``{{ value }}`` is a YAML-safe scalar, parsed back into objects.

A built-in template's text is not parsed back on every render: its values are set aside and a
token stands in for each, so every cluster whose control flow takes the same path writes the same
text (the skeleton).  Each skeleton is parsed once, into a function that builds the object from
the values, each read as its JSON text would be read (see ``_skeleton``).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

import jinja2
import yaml
from jinja2.runtime import new_context

from renderer import emit
from renderer.catalog.nodes import LOADER, PLAIN
from renderer.catalog.positioned import MAX_DEPTH
from renderer.emit import json_text
from renderer.errors import format_path
from renderer.rendering.jinja_env import SHIPPED, Compiled, Environment, shipped_key
from renderer.writing.fingerprint import builtin_templates_dir

_STR = "tag:yaml.org,2002:str"
ASSETS = ("sh", "lua", "js")
_SCALARS = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()  # YAML 1.1's, as PyYAML's safe loader and Go readers resolve
_PLAIN_TAGS: dict[str, str] = {}  # keys and literal values repeat in every object: resolved once
_MAX_PLAIN = 100_000


def _plain_tag(value: str) -> str:
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
        if len(_PLAIN_TAGS) < _MAX_PLAIN:
            _PLAIN_TAGS[value] = tag
    return tag


def _build(node: yaml.Node, budget: list[int], depth: int = 0) -> Any:
    """Plain data from libyaml's node tree, as PyYAML's safe loader would build it, in half the
    time: strings (nearly every value, quoted by the templates) skip the generic constructor.
    ``budget``: how many more values may be built; aliases cannot blow a file up."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise yaml.constructor.ConstructorError(None, None, "too many values, or values nested too deep (aliases?)",
                                                node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag if node.tag != PLAIN else _plain_tag(node.value)
        if tag == _STR:
            return node.value
        node.tag = tag
        return _SCALARS.construct_object(node)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, budget, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return {_build(key, budget, depth + 1): _build(value, budget, depth + 1) for key, value in node.value}
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {type(node).__name__}", node.start_mark)


def _budget(text: str) -> list[int]:
    # An object file holds thousands of values, never millions: what aliases could make of it.
    return [max(100_000, 10 * len(text))]


def parse_object(text: str) -> Any:
    node = yaml.compose(text, Loader=LOADER)
    return None if node is None else _build(node, _budget(text))


# A value's token in a skeleton: characters of Unicode's private use area, which no built-in
# template writes (checked when the templates are read) and a plain scalar may hold.
_OPEN, _CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile("\ue000([0-9]+)\ue001")
_MAX_SKELETONS = 10_000
_SCALAR_SLOTS: dict[tuple[type, Any], Any] = {}  # replicas, ports, flags: a few values, met in every object


_TOKENS = [f"{_OPEN}{index}{_CLOSE}" for index in range(256)]  # the first values' tokens, made once


def _token(index: int) -> str:
    return f"{_OPEN}{index}{_CLOSE}"


class _Unfit(Exception):
    """A value the skeleton cannot stand in for, or a skeleton whose tokens are not whole plain
    scalars: the text is rendered with the values and parsed back."""


def _slot_value(value: Any) -> Any:
    """What reading ``value``'s JSON text as a YAML scalar gives (as the parsed-back text has it)."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if value is None or type(value) in (bool, int):  # floats aside: -0.0 == 0.0
        key = (type(value), value)
        found = _SCALAR_SLOTS.get(key, _SCALAR_SLOTS)
        if found is _SCALAR_SLOTS:
            found = parse_object(json_text(value))
            if len(_SCALAR_SLOTS) < _MAX_PLAIN:
                _SCALAR_SLOTS[key] = found
        return found
    if isinstance(value, dict) and all(type(key) is str for key in value):  # JSON writes other keys as strings
        return {key: _slot_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_slot_value(item) for item in value]
    return parse_object(json_text(value))  # a number such as 1e+20 is a string to YAML 1.1


def _skeleton_code(node: yaml.Node, constants: list[Any], used: list[int], budget: list[int], depth: int) -> str:
    """A Python expression that builds the node: values are ``v[i]`` (each one ``used``, in the
    order the expression reads them), constants ``c[i]``; no text of the template or of a value is
    ever part of the code."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise _Unfit
    if isinstance(node, yaml.ScalarNode):
        if _OPEN in node.value or _CLOSE in node.value:
            token = _TOKEN.fullmatch(node.value)
            if token is None or node.style or node.tag != PLAIN:
                raise _Unfit  # a value inside a larger scalar, or quoted: its JSON text matters
            used.append(int(token.group(1)))
            return f"v[{token.group(1)}]"
        constants.append(_build(node, [1]))
        return f"c[{len(constants) - 1}]"
    if isinstance(node, yaml.SequenceNode):
        return "[" + "".join(_skeleton_code(item, constants, used, budget, depth + 1) + "," for item in node.value) + "]"
    if isinstance(node, yaml.MappingNode):
        return "{" + "".join(_skeleton_code(key, constants, used, budget, depth + 1) + ":"
                             + _skeleton_code(value, constants, used, budget, depth + 1) + ","
                             for key, value in node.value) + "}"
    raise _Unfit


class Decoration(NamedTuple):
    """What a caller adds to every object (render's labels): ``apply(document, extra)`` makes the
    object, or a shape, with the ``extra`` values (in a shape, slots -1, -2 ...); ``key`` tells
    apart the structures ``apply`` makes."""

    key: Any
    apply: Callable[[dict[str, Any], tuple[Any, ...]], dict[str, Any]]
    extra: tuple[Any, ...]


class _Planned(NamedTuple):
    """A skeleton's objects as a decoration makes them: how emit writes them, and their builder
    (from the values as the objects have them, and the decoration's extra values)."""

    plan: emit.Plan
    build: Callable[[list[Any], tuple[Any, ...]], dict[str, Any]]


class _Skeleton(NamedTuple):
    read: Callable[[list[Any]], list[Any]]  # the values as the object has them (_slot_value of each used)
    build: Callable[[list[Any]], Any]  # the object, from those
    shape: dict[str, Any] | None  # the object with each value's slot (emit.slot); None: emit.dump it
    plans: dict[Any, _Planned | None]  # by decoration key: objects made of the shape (_planned)


_NO_PLAN_YET: Any = object()


def _planned(skeleton: _Skeleton, decoration: Decoration) -> _Planned | None:
    """How objects of the skeleton are made and written as ``decoration`` makes them: once per
    skeleton and key, from the shape; None where the shape cannot be planned."""
    planned = skeleton.plans.get(decoration.key, _NO_PLAN_YET)
    if planned is _NO_PLAN_YET:
        planned = None
        # (an object without kind or metadata is refused as its template wrote it, undecorated)
        if skeleton.shape is not None and "kind" in skeleton.shape and isinstance(skeleton.shape.get("metadata"), dict):
            try:
                shape = decoration.apply(skeleton.shape, tuple(emit.slot(-1 - i) for i in range(len(decoration.extra))))
                plan = emit.plan(shape)
                if plan is not None:
                    constants: list[Any] = []
                    code = _shape_code(shape, constants)
                    build = eval(compile(f"lambda v, e, c=c: {code}", "<decorated>", "eval"),
                                 {"__builtins__": {}, "c": tuple(constants)})
                    planned = _Planned(plan, build)
            except (TypeError, AttributeError, ValueError, SyntaxError, RecursionError, MemoryError):
                planned = None  # a slot where the decoration needs a mapping ...: decorated as built
        skeleton.plans[decoration.key] = planned
    return planned


def _shape_code(value: Any, constants: list[Any]) -> str:
    """A Python expression that builds an object of the (planned) shape: values ``v[i]``, extra
    values ``e[i]``, constants (keys among them) ``c[i]``; no text of a template or a value is
    part of the code."""
    if type(value) is dict:
        return "{" + "".join(f"{_shape_code(key, constants)}:{_shape_code(item, constants)},"
                             for key, item in value.items()) + "}"
    if type(value) is list:
        return "[" + "".join(_shape_code(item, constants) + "," for item in value) + "]"
    index = emit.slot_index(value)
    if index is not None:
        return f"v[{index}]" if index >= 0 else f"e[{-1 - index}]"
    constants.append(value)
    return f"c[{len(constants) - 1}]"


class _Slots:
    """``v`` of a skeleton's code when its shape is built: each value's slot (emit.slot)."""

    def __getitem__(self, index: int) -> str:
        return emit.slot(index)


_UNSEEN = _Skeleton(lambda values: values, lambda read: None, None, {})  # a skeleton not parsed yet


def _skeleton(text: str) -> _Skeleton | None:
    """The function that builds a skeleton's object from its values, and how to write such an
    object; None where the text with the values has to be parsed (a token that is not a whole
    plain scalar, a YAML error, to be reported as that text has it)."""
    try:
        node = yaml.compose(text, Loader=LOADER)
        if node is None:
            return None
        constants: list[Any] = []
        used: list[int] = []
        code = _skeleton_code(node, constants, used, _budget(text), 0)
        build = eval(compile(f"lambda v, c: {code}", "<skeleton>", "eval"), {"__builtins__": {}})
    except (_Unfit, yaml.YAMLError, ValueError, SyntaxError, RecursionError, MemoryError):
        return None
    fixed = tuple(constants)
    try:  # the object with each value's slot: built as the objects are (a key given twice keeps its last value)
        shape = None if emit.has_slots(text) else build(_Slots(), fixed)
    except TypeError:  # a key that is a mapping: the objects fail too, and their text says how
        shape = None

    def read(values: list[Any]) -> list[Any]:
        read = list(values)
        for index in used:  # in the order the code reads them: the first that fails is the one reported
            value = values[index]
            if type(value) is not str:  # (a str is read as it is)
                read[index] = _slot_value(value)
        return read

    return _Skeleton(read, lambda read: build(read, fixed), shape if isinstance(shape, dict) else None, {})


def _yaml_value(value: Any) -> str:
    """JSON is YAML: a catalog value can never escape its scalar and inject structure."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises with the variable's name
    return json_text(value)


class TemplateError(Exception):
    """A template failed: named, with the reason, for the user who overrode it."""


def ship_compiled() -> None:
    """Write SHIPPED (after a built-in template, this module or Jinja changed)."""
    SHIPPED.write_text(shipped_text())


def shipped_text() -> str:
    """SHIPPED's text: the Python source Jinja compiles each built-in template to, one per line."""
    templates = Templates()
    env, cache = templates._env, Compiled()
    entries = {}
    for name in templates.names:
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        entries[cache.get_cache_key(name)] = [cache.get_source_checksum(source),
                                              env.compile(source, name, raw=True)]
    return json.dumps({"key": shipped_key(), "templates": entries}, indent=0, sort_keys=True) + "\n"


class Templates:
    """The templates: yours (--templates) compiled up front, so a broken one is bad input at
    once; the built-in ones when first used (a render after a small edit uses a few).
    ``compiled``: templates compiled before, to take instead of compiling them again.
    ``skeletons``: False parses every text back (what a skeleton's object must equal)."""

    def __init__(self, override_dir: Path | None = None, compiled: Compiled | None = None,
                 skeletons: bool = True) -> None:
        search = [str(builtin_templates_dir())]
        if override_dir is not None:
            search.insert(0, str(override_dir))
        # Every file is read now, so rendering reads none (the core is pure); a template is
        # compiled from its text when first used.
        files = jinja2.FileSystemLoader(search)
        sources = {name: files.get_source(None, name)[0]  # type: ignore[arg-type]
                   for name in files.list_templates() if name.endswith((".j2", *(f".{e}" for e in ASSETS)))}
        # A value's text, or (while a skeleton is rendered) its token.  Passed the context, so
        # Jinja never calls it while compiling (on a constant such as {{ "text" }}).
        self._slots: list[Any] | None = None
        tokens = _TOKENS

        @jinja2.pass_context
        def finalize(_: Any, value: Any) -> str:
            slots = self._slots
            if slots is None:
                return _yaml_value(value)
            if type(value) is str:
                if _OPEN in value:  # text a template captured (a macro's, a block's): it holds tokens
                    raise _Unfit
            elif not (value is None or type(value) in (bool, int, float, dict, list)):
                # What JSON cannot write fails as it does in the text (in a dict or a list, it
                # fails the skeleton's build, and the text is rendered: no JSON of each here).
                _yaml_value(value)
            index = len(slots)
            slots.append(value)
            return tokens[index] if index < 256 else _token(index)

        # Sandboxed: a template (--templates) reaches the values it is given, not Python's internals.
        env = Environment(
            loader=jinja2.DictLoader(sources),
            undefined=jinja2.StrictUndefined,
            finalize=finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
            auto_reload=False,
            cache_size=-1,  # every template compiled stays compiled
            bytecode_cache=compiled,
        )
        # Assets (scripts) are files that templates embed whole, with asset("sqlite/init.sh").
        self._assets = {name: text for name, text in sources.items() if not name.endswith(".j2")}
        env.globals["asset"] = self._assets.__getitem__
        self._templates: dict[str, jinja2.Template] = {}
        self._custom = {name for name in sources if name.endswith(".j2")
                        and override_dir is not None and (override_dir / name).is_file()}
        self._kinds = {name: _declared_kind(text) for name, text in sources.items() if name.endswith(".j2")}
        # Yours render as text: a filter over a block ({% filter upper %}) would change a value's
        # text and not its token (the built-in ones filter blocks with indent only); and so does
        # a built-in one that includes others, when some are yours.
        self._skeletal = {name for name in self._kinds if skeletons and name not in self._custom
                          and _OPEN not in sources[name] and _CLOSE not in sources[name]
                          and not (self._custom and _INCLUDES.search(sources[name]))}
        self._skeletons: dict[tuple[str, str], _Skeleton | None] = {}
        self._env = env
        self._globals: dict[str, dict[str, Any]] = {}
        self.compiled = compiled
        for name in sorted(self._custom):
            self._template(name)

    def _template(self, name: str) -> jinja2.Template:
        template = self._templates.get(name)
        if template is None:
            try:
                template = self._templates[name] = self._env.get_template(name)
            except jinja2.TemplateError as exc:
                raise TemplateError(f"template {name}: {exc}") from None
        return template

    def compile(self, names: Iterable[str] | None = None) -> None:
        """These templates (all without ``names``) and those they include, now: before forked
        processes share them (a catalog of one engine uses a few of the 57)."""
        todo = list(self._kinds if names is None else names)
        done: set[str] = set()
        while todo:
            name = todo.pop()
            if name in done or name not in self._kinds:
                continue
            done.add(name)
            self._template(name)
            todo += _INCLUDED.findall(self._env.loader.get_source(self._env, name)[0])  # type: ignore[union-attr]

    @property
    def names(self) -> list[str]:
        return sorted(self._kinds)

    def kind_of(self, name: str) -> tuple[str, str] | None:
        """(apiVersion, kind) a template writes, when it writes them as plain text."""
        return self._kinds.get(name)

    def _text(self, name: str, template: jinja2.Template, context: dict[str, Any]) -> str:
        """``template.render(context)``, with the template's globals as a dict read once: render
        walks their ChainMap in Python twice for each object (a tenth of the time)."""
        globals_ = self._globals.get(name)
        if globals_ is None:
            globals_ = self._globals[name] = dict(template.globals)
        try:
            return "".join(template.root_render_func(
                new_context(self._env, template.name, template.blocks, {**globals_, **context}, True, globals_)))
        except _Unfit:
            raise
        except jinja2.TemplateError as error:
            raise TemplateError(f"template {name}: {error}") from None
        except Exception as exc:  # a template (--templates) is code: 1/0, int("x"), a filter's misuse ...
            raise TemplateError(f"template {name}: {type(exc).__name__}: {exc}") from None

    def _from_skeleton(self, name: str, template: jinja2.Template, context: dict[str, Any],
                       decoration: Decoration | None) -> tuple[Any, str | None, bool] | None:
        """The object, built from the template's skeleton (as ``decoration`` makes it, where the
        skeleton is planned: the bool), and its YAML where the plan writes it; None where the
        text must be parsed."""
        slots: list[Any] = []
        self._slots = slots
        try:
            skeleton = self._text(name, template, context)
        except _Unfit:
            return None
        finally:
            self._slots = None
        key = (name, skeleton)
        found = self._skeletons.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = _skeleton(skeleton)
            if len(self._skeletons) < _MAX_SKELETONS:
                self._skeletons[key] = found
        if found is None:
            return None
        try:
            values = found.read(slots)
            if decoration is not None and (planned := _planned(found, decoration)) is not None:
                return (planned.build(values, decoration.extra),
                        emit.dump_planned(planned.plan, values, decoration.extra), True)
            return found.build(values), None, False
        except (yaml.YAMLError, ValueError, TypeError):  # a value read as YAML fails, or a mapping as a key: the text says how
            return None

    def render(self, name: str, context: dict[str, Any], api_object: bool = True) -> dict[str, Any]:
        """The mapping a template writes: an API object, or (``api_object`` False) a file's data."""
        return self.rendered(name, context, api_object)[0]

    def rendered(self, name: str, context: dict[str, Any], api_object: bool = True,
                 decoration: Decoration | None = None) -> tuple[dict[str, Any], str | None]:
        """``render``, as ``decoration`` makes the object, and the object's YAML where its
        skeleton's plan writes it (None: ``emit.dump`` it)."""
        template = self._template(name)
        built = self._from_skeleton(name, template, context, decoration) if name in self._skeletal else None
        obj, text, decorated = built if built is not None else (None, None, False)
        if obj is None:
            text = self._text(name, template, context)
            try:
                obj = parse_object(text)
            except (yaml.YAMLError, ValueError, TypeError) as exc:  # ValueError: an integer of thousands of
                # digits; TypeError: a mapping as a key
                raise TemplateError(f"template {name} did not produce valid YAML: {exc}") from None
            text = None
        if not api_object:
            problem = _value_problem(obj, ()) if isinstance(obj, dict) else "no mapping"
        elif not isinstance(obj, dict) or "kind" not in obj or "metadata" not in obj:
            raise TemplateError(f"template {name} must produce one object with kind and metadata")
        else:
            problem = _object_problem(obj, name in self._custom)
        if problem:
            raise TemplateError(f"template {name} produced {problem}")
        if decoration is not None and not decorated:
            obj = decoration.apply(obj, decoration.extra)
        return obj, text


_INCLUDES = re.compile(r"\{%-?\s*(include|import|from|extends)\b")
_INCLUDED = re.compile(r"""\{%-?\s*(?:include|import|from|extends)\s+["']([^"']+)["']""")  # (a name given as text)
_DECLARED = re.compile(r"\AapiVersion: *([^\s{]+) *\nkind: *([^\s{]+) *$", re.M)


def _declared_kind(source: str) -> tuple[str, str] | None:
    found = _DECLARED.match(source)
    return (found.group(1), found.group(2)) if found else None


KIND = re.compile(r"[A-Z][A-Za-z0-9]{0,62}")
API_VERSION = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+[a-z0-9]*")
INT64 = range(-(2**63), 2**63)


_NAMED: set[tuple[str, str]] = set()  # (kind, apiVersion) pairs found to be names: a few, in every object


def _object_problem(obj: dict[str, Any], custom: bool) -> str | None:
    """What no Kubernetes object can be: the API's values are JSON, its kinds and versions names.
    (The built-in templates write every value as JSON: only a custom one's values need a look.)"""
    kind, api_version, metadata = obj.get("kind"), obj.get("apiVersion"), obj.get("metadata")
    if type(kind) is not str or type(api_version) is not str or (kind, api_version) not in _NAMED:
        if not isinstance(kind, str) or not KIND.fullmatch(kind):
            return f"kind {kind!r}: a kind is a name such as ConfigMap"
        if not isinstance(api_version, str) or not API_VERSION.fullmatch(api_version):
            return f"apiVersion {api_version!r}: an API version is such as v1 or apps/v1"
        if len(_NAMED) < _MAX_PLAIN:
            _NAMED.add((kind, api_version))
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return "metadata without a name: metadata is a mapping with a name"
    return _value_problem(obj, ()) if custom else None


def _value_problem(value: Any, path: tuple[Any, ...]) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the key {key!r} at {_path(path)}: keys of an object are strings"
            problem = _value_problem(item, (*path, key))
            if problem:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _value_problem(item, (*path, index))
            if problem:
                return problem
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        pass
    elif isinstance(value, int):
        if value not in INT64:
            return f"{_path(path)}: {value} does not fit a 64-bit integer"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return f"{_path(path)}: {value!r} is no JSON number"
    else:  # a date, a time, binary data, a set: what YAML has and JSON does not
        return f"{_path(path)}: a {type(value).__name__} value; quote it to make it a string"
    return None


def _path(path: tuple[Any, ...]) -> str:
    return format_path(path) or "(root)"
