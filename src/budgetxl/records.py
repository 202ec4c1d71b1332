"""Record classes: the subset of ``dataclasses`` budgetxl uses, without its
start-up cost.

Every ``budgetxl`` command starts by defining some forty record classes (the
spec, the model, the guard's budgets …). ``dataclasses`` writes each class's
``__init__``, ``__eq__``, ``__hash__`` … as source text and compiles it with
``exec`` at every start, and imports ``inspect`` to do so: together about half
of ``budgetxl check``'s start-up on Python 3.11. This module generates the
same methods from the same kind of source, but keeps the compiled code in a
cache file (``marshal``, next to the spec cache): a start-up then loads
code objects instead of compiling, and imports nothing.

Semantics follow ``dataclasses`` for what is supported here (``init``,
``repr``, ``eq``, ``order``, ``frozen``; ``field(default, default_factory,
init, repr, compare, hash)``; fields inherited from record bases;
``__post_init__``; the ``__hash__`` rules; ``FrozenInstanceError`` is an
``AttributeError``); anything else (``slots``, ``kw_only``, ``InitVar``,
``ClassVar`` …) is refused with a ``TypeError`` rather than half-done.
``tests/test_records.py`` holds the classes to the real ``dataclasses``.

The cache holds budgetxl's own classes only (a class defined elsewhere, a
test's, is compiled every time): one entry per class, its generated source
and code, used only when the source is the same as the one generated now
and unpacked only when its class is defined. It lives in one file per Python
version and per version of this module, starts afresh past 400 entries, and
is used only when it belongs to the current user and is not writable by
others, like the spec cache. ``BUDGETXL_CACHE=off`` compiles every time.
"""

from __future__ import annotations

import marshal
import os
import sys

__all__ = ["FrozenInstanceError", "MISSING", "dataclass", "field", "fields", "is_dataclass", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
_FIELDS = "__record_fields__"
_VERSION = "2"  # change when the generated source changes meaning, not just text, or the file's layout
_ENTRIES = 400  # budgetxl has about 60 record classes


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    """One field of a record, as ``dataclasses.Field`` (the attributes budgetxl reads)."""

    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare", "hash")

    def __init__(self, default, default_factory, init, repr, compare, hash):  # noqa: A002 - dataclasses' names
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.hash = hash

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True, compare=True, hash=None):  # noqa: A002
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, compare, hash)


def fields(obj) -> tuple[Field, ...]:
    try:
        found = getattr(obj, _FIELDS)
    except AttributeError:
        raise TypeError("must be called with a record class or instance") from None
    return tuple(found.values())


def is_dataclass(obj) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, _FIELDS)


def replace(obj, /, **changes):
    """A copy of a record instance with some fields changed (as ``dataclasses.replace``)."""
    for f in getattr(obj, _FIELDS).values():
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


# --- the code cache ----------------------------------------------------------

_code: dict[str, bytes] | None = None  # class -> marshal of (its generated source, the compiled code)
_new: set[str] = set()  # classes compiled by this process and not yet saved
compiled = 0  # how many class bodies this process compiled (the tests read it)


def _cache_path():
    setting = os.environ.get("BUDGETXL_CACHE", "")
    if setting == "off":
        return None
    from .cache import cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    return folder / f"records-{sys.implementation.cache_tag}-{_VERSION}.marshal"


def _read(path) -> dict:
    """The cache file's entries: {} when it is missing, damaged, or not safely ours
    (``cache.read_private``: the user's own regular file, checksum right)."""
    from .cache import read_private

    data = read_private(path)
    if data is not None:
        try:
            raw = marshal.loads(data)
            if isinstance(raw, dict):
                return raw
        except (EOFError, ValueError, TypeError):
            pass  # damaged: compile, and write it anew
    return {}


def _load() -> dict:
    global _code
    if _code is None:
        path = _cache_path()
        _code = _read(path) if path is not None else {}
    return _code


def save() -> None:
    """Write what this process compiled to the cache (merged with what other
    processes wrote meanwhile; atomic; silent on a read-only home)."""
    if not _new:
        return
    import atexit

    atexit.unregister(save)  # saved: nothing left for the exit (a check ends with os._exit after calling this)
    mine = {key: _code[key] for key in _new}
    _new.clear()
    path = _cache_path()
    if path is None:
        return
    try:
        merged = _read(path)
        if len(merged) + len(mine) > _ENTRIES:
            merged = {}  # classes renamed or removed over many versions pile up: start afresh
        merged.update(mine)
        from .cache import prune, write_private

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, marshal.dumps(merged))
        tag = sys.implementation.cache_tag.replace(".", "\\.")
        prune(path.parent, rf"records-{tag}-[0-9]+\.marshal", path, lambda name: True)  # an older budgetxl's layout
    except (OSError, ValueError):
        pass


def _compile(source: str, key: str | None, cached: bool = True):
    """The code of a class's generated source: from the cache, else compiled.

    The cache keeps one entry per budgetxl class (``key``: module and name),
    holding its source and code, each unpacked only when its class is defined:
    a start pays for the classes it defines, and an edited class replaces its
    own entry. A class defined elsewhere (``key`` None: a test's) is compiled
    every time and never fills the cache."""
    global compiled
    cache = _load()
    if key is not None and cached:
        raw = cache.get(key)
        if type(raw) is bytes:
            try:
                kept, code = marshal.loads(raw)
            except (EOFError, ValueError, TypeError):
                kept = code = None
            if kept == source and type(code) is type(_compile.__code__):
                return code
    code = compile(source, "<budgetxl.records>", "exec")
    compiled += 1
    if key is not None:
        cache[key] = marshal.dumps((source, code))
        if not _new:
            import atexit

            atexit.register(save)
        _new.add(key)
    return code


# --- generating the methods --------------------------------------------------


def _class_fields(cls) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        inherited = base.__dict__.get(_FIELDS)
        if inherited:
            found.update(inherited)
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.split("[", 1)[0].rsplit(".", 1)[-1] in ("ClassVar", "InitVar"):
            raise TypeError(f"{cls.__qualname__}.{name}: ClassVar and InitVar are not supported by budgetxl.records")
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            f = value
            if f.default is MISSING:
                delattr(cls, name)  # dataclasses leaves no class attribute for a field without a default
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(value, MISSING, True, True, True, None)
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        f.name = name
        found[name] = f
    return found


def dataclass(cls=None, /, *, init=True, repr=True, eq=True, order=False, frozen=False):  # noqa: A002
    """``@dataclass`` and ``@dataclass(...)``, as the standard one, on the options above."""

    def wrap(cls):
        return _process(cls, init, repr, eq, order, frozen)

    return wrap if cls is None else wrap(cls)


def _tuple(names: list[str], obj: str) -> str:
    return "(" + "".join(f"{obj}.{n}," for n in names) + ")"


def _process(cls, init: bool, repr: bool, eq: bool, order: bool, frozen: bool):  # noqa: A002
    if order and not eq:
        raise ValueError("eq must be true if order is true")
    all_fields = _class_fields(cls)
    for base in cls.__mro__[1:]:
        params = base.__dict__.get("__record_frozen__")
        if params is not None and params != frozen:
            raise TypeError("cannot inherit frozen record from a non-frozen one" if frozen else "cannot inherit non-frozen record from a frozen one")
    setattr(cls, _FIELDS, all_fields)
    cls.__record_frozen__ = frozen
    flist = list(all_fields.values())
    names = [f.name for f in flist]
    args: dict[str, object] = {"__cls": cls, "__missing": MISSING, "__frozen_error": FrozenInstanceError,}
    lines: list[str] = []
    made: list[str] = []
    own = cls.__dict__

    if init and "__init__" not in own:
        params, body, seen_default = [], [], False
        for f in flist:
            if f.init:
                if f.default is not MISSING:
                    args[f"__dflt_{f.name}"] = f.default
                    params.append(f"{f.name}=__dflt_{f.name}")
                    seen_default = True
                elif f.default_factory is not MISSING:
                    params.append(f"{f.name}=__missing")
                    seen_default = True
                elif seen_default:
                    raise TypeError(f"non-default argument {f.name!r} follows default argument")
                else:
                    params.append(f.name)
            if f.default_factory is not MISSING:
                args[f"__factory_{f.name}"] = f.default_factory
                value = f"__factory_{f.name}() if {f.name} is __missing else {f.name}" if f.init else f"__factory_{f.name}()"
            elif f.init:
                value = f.name
            elif f.default is not MISSING:
                args[f"__dflt_{f.name}"] = f.default
                value = f"__dflt_{f.name}"
            else:
                continue
            # frozen: straight into the instance dict, as object.__setattr__ would put it, only faster
            body.append(f"  __d[{f.name!r}]={value}" if frozen else f"  self.{f.name}={value}")
        if frozen and body:
            body.insert(0, "  __d=self.__dict__")
        if hasattr(cls, "__post_init__"):
            body.append("  self.__post_init__()")
        lines.append(f" def __init__(self,{','.join(params)}):\n" + ("\n".join(body) or "  pass"))
        made.append("__init__")
    if repr and "__repr__" not in own:
        shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in flist if f.repr)
        lines.append(f" def __repr__(self):\n  return self.__class__.__qualname__ + f\"({shown})\"")
        made.append("__repr__")
    compared = [f.name for f in flist if f.compare]
    if eq and "__eq__" not in own:
        lines.append(
            " def __eq__(self,other):\n  if other.__class__ is self.__class__:\n"
            f"   return {_tuple(compared, 'self')}=={_tuple(compared, 'other')}\n  return NotImplemented"
        )
        made.append("__eq__")
    if order:
        for name, op in (("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">=")):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}; consider using functools.total_ordering")
            lines.append(
                f" def {name}(self,other):\n  if other.__class__ is self.__class__:\n"
                f"   return {_tuple(compared, 'self')}{op}{_tuple(compared, 'other')}\n  return NotImplemented"
            )
            made.append(name)
    class_hash = own.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    if eq and frozen and not explicit_hash:
        hashed = [f.name for f in flist if (f.compare if f.hash is None else f.hash)]
        lines.append(f" def __hash__(self):\n  return hash({_tuple(hashed, 'self')})")
        made.append("__hash__")
    elif eq and not frozen and not explicit_hash:
        cls.__hash__ = None
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
        fieldset = "(" + "".join(f"{n!r}," for n in names) + ")"
        lines.append(
            " def __setattr__(self,name,value):\n"
            f"  if type(self) is __cls or name in {fieldset}:\n   raise __frozen_error(f'cannot assign to field {{name!r}}')\n"
            "  super(__cls,self).__setattr__(name,value)"
        )
        lines.append(
            " def __delattr__(self,name):\n"
            f"  if type(self) is __cls or name in {fieldset}:\n   raise __frozen_error(f'cannot delete field {{name!r}}')\n"
            "  super(__cls,self).__delattr__(name)"
        )
        made += ["__setattr__", "__delattr__"]
    if made:
        local_names = sorted(args)
        source = (
            f"def __create_fn__({','.join(local_names)}):\n" + "\n".join(lines) + f"\n return ({','.join(made)},)\n"
        )
        namespace: dict = {}
        key = f"{cls.__module__}.{cls.__qualname__}" if cls.__module__.startswith("budgetxl.") else None
        scope = {"__builtins__": __builtins__, "__name__": cls.__module__}
        try:
            exec(_compile(source, key), scope, namespace)  # noqa: S102 - our own generated source
            functions = namespace["__create_fn__"](**{k: args[k] for k in local_names})
            if len(functions) != len(made) or any(getattr(f, "__name__", None) != n for f, n in zip(functions, made)):
                raise TypeError("not the functions asked for")
        except Exception:  # a cached entry that does not make this class's methods: compiled anew
            namespace.clear()
            exec(_compile(source, key, cached=False), scope, namespace)  # noqa: S102
            functions = namespace["__create_fn__"](**{k: args[k] for k in local_names})
        for name, fn in zip(made, functions):
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, fn)
    if "__match_args__" not in own:
        cls.__match_args__ = tuple(f.name for f in flist if f.init)
    return cls
