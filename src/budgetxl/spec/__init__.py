"""The disclosure template as data.

A spec file (TOML, one per region and year) describes every table sheet and
every input sheet of the workbook. Everything that needs to know the layout —
template builder, parser, subtotals, renderers — reads a :class:`Spec`; none of
them hard-codes a sheet name, a header text or a row label.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from ..records import dataclass, field

DEFAULT_SPEC = "xinjiang_2026"  # the one place the default spec is chosen
_HERE = Path(__file__).resolve().parent

# Header notation in spec files (see xinjiang_2026.toml).
MERGE_LEFT = "<"
MERGE_UP = "^"

AMOUNT = "amount"
CODE_ROLES = ("lei", "kuan", "xiang", "code")  # split 类/款/项 columns, or one full-code column


def header_merges(header: tuple[tuple[str, ...], ...]) -> list[tuple[int, int, int, int]]:
    """(first row, first col, last row, last col), 0-based, of every merged cell
    of a header written in the notation above: a cell owns the "<" to its
    right and the "^" below it."""
    out = []
    height, width = len(header), len(header[0]) if header else 0
    for i in range(height):
        for c in range(width):
            if header[i][c] in (MERGE_LEFT, MERGE_UP):
                continue
            right = c
            while right + 1 < width and header[i][right + 1] == MERGE_LEFT:
                right += 1
            down = i
            while down + 1 < height and all(header[down + 1][k] == MERGE_UP for k in range(c, right + 1)):
                down += 1
            if right > c or down > i:
                out.append((i, c, down, right))
    return out


# The spec types below compare by value (a spec file read twice is the same
# spec) but have no generated __repr__: nothing prints them, and every
# method dataclass generates costs an exec at every start-up.
@dataclass(frozen=True, repr=False)
class ColumnSpec:
    """One column of a table: its key, role and header path."""

    key: str
    role: str  # lei / kuan / xiang / name / project / label / amount
    path: tuple[str, ...]
    side: str | None = None  # "收入" / "支出" in two-sided tables
    economic: str | None = None  # 表7: the 经济分类 类 a column stands for

    @property
    def leaf(self) -> str:
        return self.path[-1]


@dataclass(frozen=True, repr=False)
class Derivation:
    """Where a derived figure comes from: a detail table's column(s)."""

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class FixedRowSpec:
    """A fixed-label row (表1, 表4, 表10 …): its label and how its figure is made."""

    key: str
    label: str
    sum: tuple[str, ...] = ()
    derive: Derivation | None = None
    economic: str | None = None  # 表10: the matching 经济分类 款 code
    source: str | None = None  # 表1: the income source this row is, as the narrative names it
    fund: str | None = None  # 表1: the fund whose non-zero amount the narrative lists in “收入预算包括”

    @property
    def is_input(self) -> bool:
        return not self.sum and self.derive is None


@dataclass(frozen=True, repr=False)
class RowSum:
    """A column that is the sum of other columns of the same row."""

    target: str
    terms: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class ClassDerivation:
    """Two-sided tables: each 类 row's column takes a detail table's 类 row."""

    table: str
    columns: dict[str, tuple[str, ...]]  # our column key -> source columns


@dataclass(frozen=True, repr=False)
class TableSpec:
    """One disclosure table: sheet, title, header, columns and layout."""

    key: str
    number: int
    sheet: str
    title: str
    layout: str  # classified / projects / two_sided / fixed / items
    header: tuple[tuple[str, ...], ...]
    columns: tuple[ColumnSpec, ...]
    widths: tuple[int, ...] = ()
    codes: str | None = None  # "functional" / "economic"
    row_sums: tuple[RowSum, ...] = ()
    left_rows: tuple[FixedRowSpec, ...] = ()
    left_total: str | None = None
    left_total_sum: tuple[str, ...] = ()
    right_rows: str | None = None
    right_derive: tuple[ClassDerivation, ...] = ()
    right_row_sums: tuple[RowSum, ...] = ()
    right_total: str | None = None
    total: str = "总计"
    total_sum: tuple[str, ...] = ()
    empty_statement: str | None = None

    # Derived from the fields and asked for every row a parser or a rule reads:
    # worked out once per spec (cached in the instance; the fields never change).

    @cached_property
    def amount_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.role == AMOUNT)

    def amount_keys(self, side: str | None = None) -> tuple[str, ...]:
        found = self._derived.get(("amount_keys", side))
        if found is None:
            found = self._derived["amount_keys", side] = tuple(c.key for c in self.amount_columns if side is None or c.side == side)
        return found

    def column(self, role: str, side: str | None = None) -> ColumnSpec | None:
        key = ("column", role, side)
        if key not in self._derived:
            self._derived[key] = next((c for c in self.columns if c.role == role and (side is None or c.side == side)), None)
        return self._derived[key]

    @cached_property
    def _derived(self) -> dict:
        return {}

    @cached_property
    def code_levels(self) -> tuple[int, ...]:
        """Digits of a code at each level: 类 3, 款 5 (经济分类 stops here), 项 7."""
        if self.codes == "economic":
            return (3, 5)
        return (3, 5, 7) if self.codes == "functional" else ()

    @cached_property
    def detail_length(self) -> int:
        return self.code_levels[-1] if self.code_levels else 0

    @property
    def fixed_rows(self) -> tuple[FixedRowSpec, ...]:
        return self.left_rows

    def fixed_row(self, key: str) -> FixedRowSpec:
        for row in self.left_rows:
            if row.key == key:
                return row
        raise KeyError(key)

    @property
    def computed_columns(self) -> frozenset[int]:
        """1-based columns whose every figure 计算小计 writes: row-sum targets, and
        the 支出 side of a two-sided table (each 类 comes from the detail tables)."""
        targets = {rs.target for rs in (*self.row_sums, *self.right_row_sums)}
        return frozenset(
            i for i, c in enumerate(self.columns, start=1)
            if c.role == AMOUNT and (c.key in targets or (self.layout == "two_sided" and c.side == "支出"))
        )

    def is_computed(self, row_kind: str, column: ColumnSpec, fixed_row: FixedRowSpec | None = None) -> bool:
        """Whether 计算小计 writes this figure (the template shades it)."""
        if column.role != AMOUNT:
            return False
        if row_kind != "detail" or self.columns.index(column) + 1 in self.computed_columns:
            return True
        if fixed_row is not None and (self.layout == "fixed" or column.side == "收入"):
            return not fixed_row.is_input
        return False


@dataclass(frozen=True, repr=False)
class FieldSpec:
    """One field of an input sheet (a form row or a list column)."""

    key: str
    type: str = "text"  # text / longtext / year / date / choice / amount / number / count
    choices: tuple[str, ...] = ()
    required: bool = False
    help: str = ""
    width: int = 14


@dataclass(frozen=True, repr=False)
class InputSpec:
    """One input sheet (单位信息, 项目说明 …): a form or a list."""

    key: str
    sheet: str
    kind: str  # form / list
    title: str
    fields: tuple[FieldSpec, ...] = ()  # form rows or list columns

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True, repr=False)
class ContextLine:
    """The line above each table's header: 编制部门 on the left, 单位 on the right."""

    department: str = "编制部门：{department}"
    unit: str = "单位：{unit}"
    department_labels: tuple[str, ...] = ("编制部门", "编制单位")
    unit_label: str = "单位"

    def department_text(self, department: str) -> str:
        return self.department.format(department=department)

    def unit_text(self, unit: str) -> str:
        return self.unit.format(unit=unit)

    def is_department(self, text: str) -> bool:
        return text.startswith(self.department_labels)

    def is_unit(self, text: str) -> bool:
        return text.startswith(self.unit_label) and not self.is_department(text)

    @staticmethod
    def value(text: str) -> str:
        """What follows the label: '编制部门：X' -> 'X'."""
        for sep in ("：", ":"):
            if sep in text:
                return text.split(sep, 1)[1].strip()
        return ""


@dataclass(frozen=True, repr=False)
class SheetLayout:
    """Where things sit on the sheets of the standard template. Only the template
    builder and ``fill`` rely on positions; the parser finds tables by header, so
    a workbook whose rows were moved still reads."""

    table_label_row: int = 1  # "表1"
    title_row: int = 2
    context_row: int = 3  # 编制部门 … 单位：万元
    header_row: int = 4
    detail_rows: tuple[tuple[str, int], ...] = (("classified", 40), ("projects", 40), ("items", 12))
    right_class_rows: int = 30  # 表1/表4: the 类 201 … 234
    form_header_row: int = 2  # 项目 / 内容 / 填写说明
    form_key_column: int = 1
    form_value_column: int = 2
    form_help_column: int = 3
    list_header_row: int = 1
    instructions_sheet: str = "填表说明"
    codes_sheet: str = "分类代码"
    result_sheet: str = "校验结果"  # written by 校验 / check --annotate, read back for 已核实 and 清除标记
    narrative_sheet: str = "情况说明"  # written by 生成说明 / narrate --write, read back for D07

    @property
    def form_first_row(self) -> int:
        return self.form_header_row + 1

    @property
    def list_first_row(self) -> int:
        return self.list_header_row + 1

    def data_first_row(self, table: "TableSpec") -> int:
        return self.header_row + len(table.header)

    def data_row_count(self, table: "TableSpec", class_count: int | None = None) -> int:
        if table.layout == "two_sided":
            return max(len(table.left_rows), class_count or self.right_class_rows)
        if table.layout == "fixed":
            return len(table.left_rows)
        return dict(self.detail_rows)[table.layout]

    def total_row(self, table: "TableSpec", class_count: int | None = None) -> int:
        return self.data_first_row(table) + self.data_row_count(table, class_count)


DEFAULT_COLORS = {
    "header": "DDEBF7", "computed": "F2F2F2", "subtotal": "E7E6E6",
    "error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7",
}


@dataclass(frozen=True, repr=False)
class Spec:
    """A whole disclosure template: every table and input sheet, and the sheet layout."""

    id: str
    region: str
    year: int
    title: str
    money_format: str
    functional_codes: str
    economic_codes: str
    tables: tuple[TableSpec, ...]
    inputs: tuple[InputSpec, ...]
    source: Path = field(compare=False, default=Path())
    context: ContextLine = ContextLine()
    layout: SheetLayout = SheetLayout()
    colors: tuple[tuple[str, str], ...] = tuple(DEFAULT_COLORS.items())  # style name -> RGB

    def color(self, style: str) -> str | None:
        return dict(self.colors).get(style)

    def income_sources(self) -> tuple[tuple[str, str], ...]:
        """(source as the narrative names it, 表1 row key), in table order."""
        return tuple((r.source, r.key) for t in self.tables if t.layout == "two_sided" for r in t.left_rows if r.source)

    def funds(self) -> tuple[tuple[str, str], ...]:
        """(fund, 表1 row key) of the funds “收入预算包括” lists when non-zero."""
        return tuple((r.fund, r.key) for t in self.tables if t.layout == "two_sided" for r in t.left_rows if r.fund)

    def table(self, key: str) -> TableSpec:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def input(self, key: str) -> InputSpec:
        for i in self.inputs:
            if i.key == key:
                return i
        raise KeyError(key)


def _column(raw: dict) -> ColumnSpec:
    return ColumnSpec(
        key=raw["key"],
        role=raw["role"],
        path=tuple(raw.get("path", [raw["key"].split("/")[-1]])),
        side=raw.get("side"),
        economic=raw.get("economic"),
    )


def _derivation(raw: dict | None) -> Derivation | None:
    if raw is None:
        return None
    return Derivation(table=raw["table"], columns=tuple(raw["columns"]))


def _fixed_row(raw: dict) -> FixedRowSpec:
    return FixedRowSpec(
        key=raw["key"],
        label=raw["label"],
        sum=tuple(raw.get("sum", ())),
        derive=_derivation(raw.get("derive")),
        economic=raw.get("economic"),
        source=raw.get("source"),
        fund=raw.get("fund"),
    )


def _row_sums(raw: list | None) -> tuple[RowSum, ...]:
    return tuple(RowSum(r["target"], tuple(r["terms"])) for r in raw or ())


def _class_derivations(raw: dict | None) -> tuple[ClassDerivation, ...]:
    if raw is None:
        return ()
    found = [raw, *raw.get("more", ())]
    return tuple(
        ClassDerivation(d["table"], {k: tuple(v) for k, v in d["columns"].items()}) for d in found
    )


def _table(raw: dict) -> TableSpec:
    return TableSpec(
        key=raw["key"],
        number=raw["number"],
        sheet=raw["sheet"],
        title=raw["title"],
        layout=raw["layout"],
        header=tuple(tuple(r) for r in raw["header"]),
        columns=tuple(_column(c) for c in raw["columns"]),
        widths=tuple(raw.get("widths", ())),
        codes=raw.get("codes"),
        row_sums=_row_sums(raw.get("row_sums")),
        left_rows=tuple(_fixed_row(r) for r in raw.get("left_rows", ())),
        left_total=raw.get("left_total"),
        left_total_sum=tuple(raw.get("left_total_sum", ())),
        right_rows=raw.get("right_rows"),
        right_derive=_class_derivations(raw.get("right_derive")),
        right_row_sums=_row_sums(raw.get("right_row_sums")),
        right_total=raw.get("right_total"),
        total=raw.get("total", "总计"),
        total_sum=tuple(raw.get("total_sum", ())),
        empty_statement=raw.get("empty_statement"),
    )


def _field(raw: dict) -> FieldSpec:
    return FieldSpec(
        key=raw["key"],
        type=raw.get("type", "text"),
        choices=tuple(raw.get("choices", ())),
        required=raw.get("required", False),
        help=raw.get("help", ""),
        width=raw.get("width", 14),
    )


def _input(raw: dict) -> InputSpec:
    return InputSpec(
        key=raw["key"],
        sheet=raw["sheet"],
        kind=raw["kind"],
        title=raw["title"],
        fields=tuple(_field(f) for f in raw.get("fields", raw.get("columns", ()))),
    )


def _context(raw: dict) -> ContextLine:
    if "department_labels" in raw:
        raw = {**raw, "department_labels": tuple(raw["department_labels"])}
    return ContextLine(**raw)


def _layout(raw: dict) -> SheetLayout:
    if "detail_rows" in raw:
        raw = {**raw, "detail_rows": tuple(raw["detail_rows"].items())}
    return SheetLayout(**raw)


def parse_spec(text: str, source: Path = Path()) -> Spec:
    import tomllib  # only when a spec is parsed, not when it comes from the cache

    return _spec(tomllib.loads(text), source)


def _spec(raw: dict, source: Path) -> Spec:
    """The spec a parsed spec file describes."""
    meta = raw["meta"]
    spec = Spec(
        id=meta["id"],
        region=meta["region"],
        year=meta["year"],
        title=meta["title"],
        money_format=meta.get("money_format", "#,##0.00"),
        functional_codes=meta["functional_codes"],
        economic_codes=meta["economic_codes"],
        tables=tuple(_table(t) for t in raw["tables"]),
        inputs=tuple(_input(i) for i in raw.get("inputs", ())),
        source=source,
        context=_context(meta.get("context", {})),
        layout=_layout(raw.get("layout", {})),
        colors=tuple({**DEFAULT_COLORS, **raw.get("colors", {})}.items()),
    )
    _validate(spec)
    return spec


def _validate(spec: Spec) -> None:
    """Catch spec-file mistakes when the spec is loaded, not deep in a run."""
    for t in spec.tables:
        widths = {len(r) for r in t.header}
        if widths != {len(t.columns)}:
            raise ValueError(f"{spec.id} {t.key}: header rows and columns differ in width")
        keys = {(c.key, c.side) for c in t.columns}
        for rs in (*t.row_sums, *t.right_row_sums):
            for k in (rs.target, *rs.terms):
                if not any(k == key for key, _ in keys):
                    raise ValueError(f"{spec.id} {t.key}: row sum names unknown column {k!r}")
        row_keys = {r.key for r in t.left_rows}
        for r in t.left_rows:
            for k in r.sum:
                if k not in row_keys:
                    raise ValueError(f"{spec.id} {t.key}: row {r.key!r} sums unknown row {k!r}")


@lru_cache(maxsize=8)
def load_spec(name: str = DEFAULT_SPEC) -> Spec:
    """Load a shipped spec by name, or any spec file by path."""
    path = Path(name)
    if path.suffix == ".toml" and path.exists():
        return _parse_cached(path.read_text(encoding="utf-8"), path)
    resource = _HERE / f"{name}.toml"  # package data is installed as files (no importlib.resources: it costs at start-up)
    return _parse_cached(resource.read_text(encoding="utf-8"), resource)


def _parse_cached(text: str, source: Path) -> Spec:
    """parse_spec, remembered between runs (``cache.remembered``: the parsed TOML
    in marshal format): parsing the TOML costs more than reading a workbook, and
    every command starts with it. By default only the shipped specs are kept;
    ``$BUDGETXL_CACHE`` names a folder for every spec, ``off`` turns it off. An
    entry that does not build a spec is replaced."""
    from ..cache import remembered

    def build() -> dict:
        import tomllib  # only when a spec is parsed, not when it comes from the cache

        return tomllib.loads(text)

    def use(raw) -> Spec:
        if not isinstance(raw, dict):
            raise TypeError("not a parsed spec")
        return _spec(raw, source)

    return remembered("spec", text, source, __file__, build, use, only_shipped_in=_HERE)


def spec_resource(filename: str) -> Path:
    return _HERE / filename
