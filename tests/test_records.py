"""budgetxl.records against the real dataclasses: the same class definition,
decorated by both, behaves the same (generated shapes, hypothesis); and the
code cache is used, refused when unsafe and rebuilt when damaged (real
processes, a real cache folder)."""

from __future__ import annotations

import dataclasses
import inspect
import marshal
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgetxl import records
from budgetxl.cache import read_private

NAMES = ["a", "b", "c", "sheet", "row", "col", "value", "ref"]


@st.composite
def shapes(draw):
    """A class body: fields (name, default kind, compare, repr, hash) and decorator options."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=6, unique=True))
    fields, defaulted = [], False
    for name in names:
        kind = draw(st.sampled_from(["none", "value", "factory", "field_value"]) if not defaulted else st.sampled_from(["value", "factory", "field_value"]))
        defaulted = defaulted or kind != "none"
        fields.append((name, kind, draw(st.booleans()), draw(st.booleans()), draw(st.sampled_from([None, True, False]))))
    frozen, eq = draw(st.booleans()), draw(st.booleans())
    order = eq and draw(st.booleans())
    return fields, dict(frozen=frozen, eq=eq, order=order, repr=draw(st.booleans()))


def build(decorator, field, shape, base=None):
    fields, options = shape
    body = {"__annotations__": {}}
    for name, kind, compare, show, hashed in fields:
        body["__annotations__"][name] = "object"
        if kind == "value":
            body[name] = len(name)
        elif kind == "factory":
            body[name] = field(default_factory=list, compare=compare, repr=show, hash=hashed)
        elif kind == "field_value":
            body[name] = field(default=(name,), compare=compare, repr=show, hash=hashed)
        else:
            body[name] = field(compare=compare, repr=show, hash=hashed)
    cls = type("Shape", (base,) if base else (), body)
    return decorator(**options)(cls)


def values(shape, seed):
    return {name: (seed, i) for i, (name, *_rest) in enumerate(shape[0])}


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - the kind of failure is what is compared
        return ("raises", type(exc).__mro__[1] if isinstance(exc, (dataclasses.FrozenInstanceError, records.FrozenInstanceError)) else type(exc))


@settings(max_examples=int(os.environ.get("BUDGETXL_RECORDS_EXAMPLES", "150")), deadline=None)
@given(shapes(), st.integers(0, 3), st.integers(0, 3))
def test_a_record_behaves_as_the_same_dataclass(shape, s1, s2):
    ours = build(records.dataclass, records.field, shape)
    theirs = build(dataclasses.dataclass, dataclasses.field, shape)
    ours_sig = [(p.name, p.kind) for p in inspect.signature(ours).parameters.values()]
    theirs_sig = [(p.name, p.kind) for p in inspect.signature(theirs).parameters.values()]
    assert ours_sig == theirs_sig
    o1, o2 = ours(**values(shape, s1)), ours(**values(shape, s2))
    t1, t2 = theirs(**values(shape, s1)), theirs(**values(shape, s2))
    if shape[1]["repr"]:
        assert repr(o1) == repr(t1)
    assert (o1 == o2) == (t1 == t2)
    assert (o1 == o1) == (t1 == t1) and (o1 != "x") == (t1 != "x")
    assert outcome(lambda: hash(o1) == hash(o2)) == outcome(lambda: hash(t1) == hash(t2))
    assert (ours.__hash__ is None) == (theirs.__hash__ is None)
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert outcome(lambda: getattr(o1, op)(o2)) == outcome(lambda: getattr(t1, op)(t2))
    for name, *_ in shape[0]:
        assert getattr(o1, name) == getattr(t1, name)
        assert outcome(lambda: setattr(o1, name, 9)) == outcome(lambda: setattr(t1, name, 9))
        o3, t3 = ours(**values(shape, s1)), theirs(**values(shape, s1))
        assert outcome(lambda: delattr(o3, name)) == outcome(lambda: delattr(t3, name))
    assert outcome(lambda: setattr(o1, "other", 1)) == outcome(lambda: setattr(t1, "other", 1))
    assert [f.name for f in records.fields(o1)] == [f.name for f in dataclasses.fields(t1)]
    assert ours.__match_args__ == theirs.__match_args__
    # no default value left on the class where dataclasses leaves none, the same one where it leaves one
    for name, *_ in shape[0]:
        assert hasattr(ours, name) == hasattr(theirs, name)
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name)
    r = records.replace(o2, **{n: 7 for n, *_ in shape[0][:1]})
    d = dataclasses.replace(t2, **{n: 7 for n, *_ in shape[0][:1]})
    assert [getattr(r, n, None) for n, *_ in shape[0]] == [getattr(d, n, None) for n, *_ in shape[0]]


def test_frozen_records_pickle_and_subclass_as_dataclasses_do():
    @records.dataclass(frozen=True)
    class Base:
        """A base record."""

        sheet: str
        row: int = 1

    @records.dataclass(frozen=True, order=True)
    class Child(Base):
        """A child adding a field."""

        col: int = 2

    c = Child("表1", 3, 4)
    assert repr(c) == "test_frozen_records_pickle_and_subclass_as_dataclasses_do.<locals>.Child(sheet='表1', row=3, col=4)"
    assert [f.name for f in records.fields(Child)] == ["sheet", "row", "col"]
    assert Child("a", 1, 2) < Child("a", 1, 3)
    with pytest.raises(AttributeError):
        c.row = 5
    with pytest.raises(records.FrozenInstanceError):
        del c.col
    assert records.is_dataclass(c) and records.is_dataclass(Child) and not records.is_dataclass(object())

    class Plain(Child):  # not a record: may set attributes of its own, not the fields
        pass

    p = Plain("a")
    p.extra = 1
    with pytest.raises(AttributeError):
        p.sheet = "b"
    with pytest.raises(TypeError):
        records.dataclass(type("Mixed", (Base,), {"__annotations__": {"x": "int"}}))  # non-frozen from frozen
    with pytest.raises(ValueError):
        records.dataclass(type("Mutable", (), {"__annotations__": {"x": "list"}, "x": []}))
    with pytest.raises(TypeError):
        records.dataclass(type("Late", (), {"__annotations__": {"x": "int", "y": "int"}, "x": 1}))  # y after a default
    with pytest.raises(TypeError):
        records.dataclass(type("Cv", (), {"__annotations__": {"x": "ClassVar[int]"}}))


def test_the_model_pickles_and_compares_across_processes_by_value():
    from budgetxl.model import Amount, CellRef

    a = Amount(None, CellRef("表1", 2, 3))
    assert pickle.loads(pickle.dumps(a)) == a
    assert hash(pickle.loads(pickle.dumps(a.ref))) == hash(a.ref)


IMPORT_ALL = textwrap.dedent(
    """
    import budgetxl.cli, budgetxl.pipeline, budgetxl.rules, budgetxl.guard, budgetxl.grid
    from budgetxl import records
    records.save()
    print(records.compiled)
    """
)


def _compiled(cache: Path, setting: str | None = None) -> int:
    env = {**os.environ, "BUDGETXL_CACHE": setting or str(cache)}
    out = subprocess.run([sys.executable, "-c", IMPORT_ALL], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_a_second_start_compiles_no_record_class(tmp_path):
    first = _compiled(tmp_path)
    assert first > 20  # the spec, the model, the guard …
    assert _compiled(tmp_path) == 0
    (entry,) = tmp_path.glob("records-*.marshal")
    assert entry.stat().st_mode & 0o777 == 0o600


def test_an_unsafe_or_damaged_cache_is_not_used(tmp_path):
    _compiled(tmp_path)
    (entry,) = tmp_path.glob("records-*.marshal")
    os.chmod(entry, 0o666)  # writable by others: someone else could have put code there
    assert _compiled(tmp_path) > 20
    assert entry.stat().st_mode & 0o777 == 0o600  # replaced by a safe one
    assert _compiled(tmp_path) == 0
    entry.write_bytes(b"\xff damaged")
    assert _compiled(tmp_path) > 20
    assert _compiled(tmp_path) == 0


EDITED = textwrap.dedent(
    """
    import sys
    from budgetxl import records
    body = {"__annotations__": {name: "int" for name in sys.argv[1].split(",")}, "__module__": "budgetxl.edited"}
    records.dataclass(frozen=True)(type("Edited", (), body))
    records.save()
    print(records.compiled)
    """
)


def test_an_edited_class_replaces_its_own_entry(tmp_path):
    """A class whose fields change (a new budgetxl) is compiled anew, and its old
    entry goes: the cache does not grow with every version."""
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path)}

    def run(fields: str) -> int:
        out = subprocess.run([sys.executable, "-c", EDITED, fields], env=env, capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    assert run("a,b") == 1 and run("a,b") == 0
    (entry,) = tmp_path.glob("records-*.marshal")
    size = len(marshal.loads(read_private(entry)))
    assert run("a,b,c") == 1 and run("a,b,c") == 0 and run("a,b") == 1
    assert len(marshal.loads(read_private(entry))) == size
    older = tmp_path / entry.name.replace(entry.name.rsplit("-", 1)[1], "0.marshal")
    older.write_bytes(b"an older layout")
    run("a")
    assert [p.name for p in tmp_path.glob("records-*")] == [entry.name]


def test_no_cache_is_written_when_the_cache_is_off(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "BUDGETXL_CACHE": "off", "HOME": str(home), "XDG_CACHE_HOME": str(home / "xdg")}
    subprocess.run([sys.executable, "-c", IMPORT_ALL], env=env, check=True, capture_output=True)
    assert list(home.rglob("*")) == []


def test_check_saves_the_cache_although_it_ends_early(tmp_path):
    """`check` ends with os._exit, past the atexit hook: it saves first."""
    example = Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx"
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "budgetxl.cli", "check", str(example)], env=env, capture_output=True, check=False)
    assert list(tmp_path.glob("records-*.marshal"))
    assert _compiled(tmp_path) == 0


def test_a_cache_write_replaces_a_planted_symlink_and_leaves_its_target_alone(tmp_path):
    """In a cache folder others can write (a shared BUDGETXL_CACHE), a symlink put
    where an entry goes is replaced, never written through."""
    from budgetxl.cache import write_private

    victim = tmp_path / "victim.txt"
    victim.write_text("mine", encoding="utf-8")
    entry = tmp_path / "records-x.marshal"
    entry.symlink_to(victim)
    write_private(entry, b"data")
    assert victim.read_text(encoding="utf-8") == "mine"
    assert not entry.is_symlink() and read_private(entry) == b"data" and entry.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records-x.marshal", "victim.txt"]  # no temporary left


def _check(cache: Path) -> subprocess.CompletedProcess:
    example = Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx"
    env = {**os.environ, "BUDGETXL_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "budgetxl.cli", "check", str(example)], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_cache_entry_is_read_only_as_the_users_own_regular_file(tmp_path):
    """Found by an attack: the entry was checked (stat, following links) and then
    read again, so a symlink swapped in between ran another user's code; and a
    FIFO in its place hung every command. Now it is opened once, never through a
    link, without waiting, and checked on the open file."""
    from budgetxl.cache import write_private

    good = tmp_path / "good"
    write_private(good, b"payload")
    assert read_private(good) == b"payload"
    link = tmp_path / "link"
    link.symlink_to(good)
    assert read_private(link) is None  # the user's own file, but through a link: not used
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert read_private(fifo) is None  # returns at once
    altered = tmp_path / "altered"
    altered.write_bytes(good.read_bytes()[:-1] + b"X")
    os.chmod(altered, 0o600)
    assert read_private(altered) is None  # the checksum no longer fits
    clean = _check(tmp_path / "c0")
    for name in ("records-" + sys.implementation.cache_tag + "-2.marshal",):
        cache = tmp_path / "c1"
        cache.mkdir()
        os.mkfifo(cache / name)
        done = _check(cache)  # a FIFO where the records cache goes: no hang
        assert (done.returncode, done.stdout, done.stderr) == (clean.returncode, clean.stdout, clean.stderr)


def test_a_records_entry_whose_code_makes_other_functions_is_compiled_anew(tmp_path):
    """An entry with the right source but other code (another class's, a module's,
    code with a free variable) gave a traceback on every command and stayed so."""
    clean = _check(tmp_path / "clean")
    cache = tmp_path / "cache"
    _check(cache)
    (entry,) = cache.glob("records-*.marshal")
    from budgetxl.cache import write_private

    entries = marshal.loads(read_private(entry))
    others = [compile("x = 1", "m", "exec"), (lambda: 1).__code__, compile("def __create_fn__(): return ()", "m", "exec")]
    bad = {key: marshal.dumps((marshal.loads(raw)[0], others[i % len(others)])) for i, (key, raw) in enumerate(entries.items())}
    write_private(entry, marshal.dumps(bad))
    done = _check(cache)
    assert (done.returncode, done.stdout, done.stderr) == (clean.returncode, clean.stdout, clean.stderr)
    assert _compiled(cache) == 0  # and the entries were written right


def test_cache_clean_up_removes_only_budgetxls_own_entries(tmp_path, monkeypatch):
    """Found by an attack: with BUDGETXL_CACHE=. the clean-up deleted the user's
    month-old files named spec-* and codes-* — the code list the command was given."""
    import time as _time

    from budgetxl.codes import load_codes
    from budgetxl.spec import _HERE, load_spec

    theirs = ["codes-functional-2025.csv", "spec-county.toml", "spec-notes.txt", "records-notes.marshal", ".spec-x.marshal.1.2"]
    shipped = _HERE / load_spec().functional_codes
    (tmp_path / theirs[0]).write_text(shipped.read_text(encoding="utf-8-sig"), encoding="utf-8")
    for name in theirs[1:]:
        (tmp_path / name).write_text("mine", encoding="utf-8")
    old = _time.time() - 40 * 86400
    for name in theirs:
        os.utime(tmp_path / name, (old, old))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUDGETXL_CACHE", ".")
    load_codes.cache_clear()
    try:
        assert load_codes("functional", theirs[0]).names
        _compiled(tmp_path)
    finally:
        load_codes.cache_clear()
    assert all((tmp_path / name).exists() for name in theirs)
    assert list(tmp_path.glob("codes-*.marshal")) and list(tmp_path.glob("records-*.marshal"))


def test_an_entry_renamed_onto_another_entrys_name_is_not_used(tmp_path):
    """Found by an attack: in a group- or world-writable cache folder (without the
    sticky bit) another user could swap two of the caller's valid entries by
    renaming them — the functional and economic code lists, changing every check.
    An entry's checksum covers its name."""
    from budgetxl.cache import write_private

    a, b = tmp_path / "codes-1-2-3.marshal", tmp_path / "codes-4-5-6.marshal"
    write_private(a, b"functional")
    write_private(b, b"economic")
    a.rename(tmp_path / "x")
    b.rename(a)
    (tmp_path / "x").rename(b)
    assert read_private(a) is None and read_private(b) is None


def test_without_posix_owners_the_caches_are_off_and_every_command_works(tmp_path):
    """On Windows (no os.getuid) an entry's owner and mode cannot be checked: the
    caches are not used (reading one asked os.getuid and failed every import)."""
    example = Path(__file__).resolve().parent.parent / "examples" / "akto_2026.xlsx"
    probe = (
        "import os, sys\ndel os.getuid\nfrom budgetxl.cli import main\n"
        "code = main(['check', sys.argv[1]])\nfrom budgetxl import records\nrecords.save()\nprint(code, records.compiled > 20)\n"
    )
    env = {**os.environ, "BUDGETXL_CACHE": str(tmp_path / "cache")}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", probe, str(example)], env=env, capture_output=True, text=True, check=False)
        assert done.stdout.split()[-2:] == ["1", "True"], done.stderr[-500:]
    assert not (tmp_path / "cache").exists()
