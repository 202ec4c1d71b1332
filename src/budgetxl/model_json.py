"""The parsed model as JSON (``budgetxl dump --json``), schema in the README."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .model import Disclosure, Finding, Row, Table
from .money import as_text, plain
from .spec import Spec

SCHEMA_VERSION = 1


def row_json(row: Row) -> dict[str, Any]:
    return {
        "row": row.row,
        "kind": row.kind,
        "code": row.code,
        "label": row.label,
        "name": row.name,
        "project": row.project,
        "side": row.side,
        "values": {k: as_text(a.value) for k, a in row.values.items()},
        "refs": {k: str(a.ref) for k, a in row.values.items()},
    }


def table_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        "sheet": table.sheet,
        "rows": [row_json(r) for r in table.rows],
    }


def _number(value: Decimal | None, field_type: str) -> str | None:
    """Money with two places at least; counts and other numbers as typed."""
    return as_text(value) if field_type == "amount" else plain(value)


def _fields_json(fields, amounts, types: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: t.value for k, t in fields.items()}
    out.update({k: _number(a.value, types.get(k, "amount")) for k, a in amounts.items()})
    return out


def disclosure_json(disclosure: Disclosure, spec: Spec, findings: list[Finding] | tuple = ()) -> dict[str, Any]:
    types = {i.key: {f.key: f.type for f in i.fields} for i in spec.inputs}
    return {
        "schema": SCHEMA_VERSION,
        "spec": disclosure.spec_id,
        "source": disclosure.source,
        "department": disclosure.department,
        "year": disclosure.year,
        "unit": disclosure.unit,
        "tables": {k: table_json(t) for k, t in disclosure.tables.items()},
        "inputs": {
            **{k: _fields_json(form.fields, form.amounts, types.get(k, {})) for k, form in disclosure.forms.items()},
            **{
                k: [{**_fields_json(r.fields, r.amounts, types.get(k, {})), "row": r.row} for r in records]
                for k, records in disclosure.lists.items()
            },
        },
        "findings": [f.to_json() for f in findings],
    }


def decimal_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return as_text(value)
    raise TypeError(type(value).__name__)
