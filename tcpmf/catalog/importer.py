"""Import API list prices from a LiteLLM-style JSON price map into the dated model catalog.

The price map is an object of models, each with per-token prices::

    {"gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai"}}

For each model, a record dated this month (``YYYY-MM``) is *appended* to its ``prices`` in
``assumptions/catalog/models.yaml`` only when a price changed; a model the catalog does not know
gets a new entry.  Prices convert from USD per token to USD per 1M tokens (× 10⁶).  Earlier records
are never changed or removed, and the file's comments and layout are kept (a ruamel.yaml round
trip).  The new file is validated as a catalog before it replaces the old one.

Examples
--------
>>> import json, shutil
>>> _ = shutil.copytree("assumptions", "my_assumptions")  # a copy: the bundled catalog stays as it is
>>> _ = open("model_prices.json", "w").write(json.dumps({"gpt-4o": {
...     "litellm_provider": "openai", "input_cost_per_token": 2.0e-6, "output_cost_per_token": 8.0e-6}}))
>>> report = import_prices("model_prices.json", "my_assumptions/catalog/models.yaml", month="2099-01",
...                        models=["gpt-4o"])
>>> report.updated, report.written
(['gpt-4o'], True)
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from tcpmf.catalog import prices as catalog
from tcpmf.core.errors import MISSING, AssumptionError, TcpmfError, close_matches
from tcpmf.core.months import is_month, month_index
from tcpmf.core.yamlio import assumptions_dir, display_path

__all__ = ["ImportReport", "import_prices", "read_price_map"]

PER_MTOK = 1e6
#: LiteLLM keys and the catalog fields they become.
FIELDS = {
    "input_cost_per_token": "usd_per_mtok_in",
    "output_cost_per_token": "usd_per_mtok_out",
    "cache_read_input_token_cost": "usd_per_mtok_cached_in",
}
#: A CNY record counts as unchanged when the USD price is within this share of it at the record's rate.
CNY_TOLERANCE = 0.02


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_prices` did (or would do, with ``dry_run``).

    Attributes
    ----------
    month
        The date of the new records.
    added
        New models, each with one record.
    updated
        Models that got a new record because a price changed.
    unchanged
        Models whose latest record already has these prices.
    skipped
        Model → why it was not imported (no per-token price, a record dated this month or later…).
    records
        Model → the new record (USD per 1M tokens).
    """

    catalog: Path
    month: str
    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: bool = False

    def table(self) -> pd.DataFrame:
        """One row per model considered: model, action, the new prices, and a note."""
        rows: list[dict[str, Any]] = []
        for action, names in (
            ("added", self.added),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
        ):
            for name in names:
                record = self.records.get(name, {})
                rows.append(
                    {
                        "model": name,
                        "action": action,
                        **{f: record.get(f) for f in FIELDS.values()},
                        "note": "",
                    }
                )
        rows += [
            {"model": name, "action": "skipped", "note": why} for name, why in self.skipped.items()
        ]
        columns = ["model", "action", *FIELDS.values(), "note"]
        return pd.DataFrame(rows, columns=columns)


def _per_mtok(value: float) -> float:
    """USD per token → USD per 1M tokens, without binary noise (2.5e-06 → 2.5)."""
    return float(f"{value * PER_MTOK:.12g}")


def _read_json(path: str | Path) -> dict[str, Any]:
    name = display_path(Path(path))
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssumptionError(
            name, "", "file not found; give the path of a JSON price map"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssumptionError(name, "", f"cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise AssumptionError(
            name, "", f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise AssumptionError(
            name, "", "must hold a JSON object of model names to price objects", type(data).__name__
        )
    return {str(k): v for k, v in data.items() if k != "sample_spec"}


def read_price_map(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a LiteLLM-style JSON price map (an object of objects); entries that are not objects are left out."""
    return {k: v for k, v in _read_json(path).items() if isinstance(v, dict)}


#: LiteLLM ``mode`` values priced per input and output token (an entry without a mode counts as chat).
TOKEN_MODES = frozenset({"chat", "completion", "responses"})
#: Largest plausible price, USD per 1M tokens: a larger one is almost surely a per-1M price written
#: in a per-token field.
MAX_USD_PER_MTOK = 10_000.0


def _new_record(entry: Mapping[str, Any], name: str = "", file: str = "") -> dict[str, float] | str:
    """The catalog record's prices, or the reason there is none."""
    mode = entry.get("mode")
    if mode is not None and str(mode) not in TOKEN_MODES:
        return (
            f"mode {mode!r}: only chat and completion models are priced per input and output token "
            "(embedding, image and audio models are not imported)"
        )
    record: dict[str, float] = {}
    for key, target in FIELDS.items():
        value = entry.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            return f"{key} = {value!r} is not a price (a number, 0 or more)"
        record[target] = _per_mtok(float(value))
        if record[target] > MAX_USD_PER_MTOK:
            raise TcpmfError(
                f"{file}: {name}.{key} = {value:g} (= {record[target]:,.0f} USD per 1M tokens): "
                "LiteLLM prices are USD per token; a price per 1M tokens must be divided by "
                f"1,000,000 (e.g. {value:g} per 1M is {value / PER_MTOK:g} per token)"
            )
    if "usd_per_mtok_in" not in record or "usd_per_mtok_out" not in record:
        return "no per-token input and output price (e.g. an embedding or image model)"
    return record


def _same(old: Mapping[str, Any], new: Mapping[str, float], directory: Path) -> bool:
    """Whether the latest catalog record *old* already has the prices *new*."""
    if old.get("usd_per_mtok_in") is not None:
        factor, tol = 1.0, 1e-9
        prefix = "usd"
    else:
        factor, tol = 1.0 / catalog.cny_per_usd(str(old["date"]), directory), CNY_TOLERANCE
        prefix = "cny"
    for name, value in new.items():
        before = old.get(name.replace("usd", prefix, 1))
        if before is None and name.endswith("cached_in"):
            return False  # a cached-input price is news
        if before is None or not math.isclose(
            float(before) * factor, value, rel_tol=tol, abs_tol=1e-12
        ):
            return False
    return True


def _inside_package(path: Path) -> bool:
    """Whether *path* lies inside the installed tcpmf package (not a source checkout)."""
    package = Path(__file__).resolve().parents[1]  # the tcpmf package
    try:
        return path.resolve().is_relative_to(package)
    except OSError:  # pragma: no cover
        return False


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def import_prices(
    price_map: str | Path,
    catalog_path: str | Path | None = None,
    month: str | None = None,
    models: Iterable[str] | None = None,
    providers: Iterable[str] | None = None,
    dry_run: bool = False,
    name_map: Mapping[str, str] | None = None,
) -> ImportReport:
    """Append dated price records from a LiteLLM-style price map to the model catalog.

    Parameters
    ----------
    price_map
        The JSON file.
    catalog_path
        The catalog to extend (default: ``assumptions/catalog/models.yaml``).
    month
        Date of the new records, ``YYYY-MM`` (default: this month).
    models, providers
        Import only these model names / ``litellm_provider`` values (default: every model with an
        input and an output price per token).
    dry_run
        Report what would change without writing.
    name_map
        Price-map key → catalog model name, for keys spelled differently from the catalog (e.g.
        ``{"deepseek/deepseek-chat": "deepseek-chat"}``).  A provider-prefixed key whose last part
        is a catalog model, and that is not mapped, is skipped with a hint rather than added as a
        new model.

    Returns
    -------
    ImportReport
        What was added, updated, unchanged or skipped.

    Raises
    ------
    AssumptionError
        A bad price map, a bad month, or a catalog that would not validate afterwards.
    """
    path = _target_catalog(catalog_path, dry_run)
    month = month or f"{date.today():%Y-%m}"
    if not is_month(month):
        raise AssumptionError("<argument>", "month", "a month written YYYY-MM", month)
    raw_entries = _read_json(price_map)
    entries = {k: v for k, v in raw_entries.items() if isinstance(v, dict)}
    wanted = set(models) if models is not None else None
    if wanted is not None and (missing := sorted(wanted - set(entries))):
        raise AssumptionError(
            display_path(Path(price_map)),
            missing[0],
            "a model named in the price map "
            f"({len(entries)} models; close matches: "
            f"{', '.join(close_matches(missing[0], list(entries))) or 'none'})",
        )
    only = {p.lower() for p in providers} if providers is not None else None
    source = f"{Path(price_map).name}, imported {date.today():%Y-%m-%d} (LiteLLM-style price map; per token x 1e6)"
    report = ImportReport(catalog=path, month=month, source=source)
    for name, entry in raw_entries.items():
        if not isinstance(entry, dict) and (wanted is None or name in wanted):
            report.skipped[name] = f"not a JSON object of prices (a {type(entry).__name__})"
    y = _yaml()
    tree = _read_catalog_tree(path, y)
    merge = _Merge(
        report,
        tree["models"],
        dict(name_map or {}),
        display_path(Path(price_map)),
        path.parent.parent if (path.parent / "fx.yaml").is_file() else assumptions_dir(),
        f"imported {date.today():%Y-%m-%d} from {Path(price_map).name}",
    )
    for key, entry in entries.items():
        if (wanted is None or key in wanted) and (
            only is None or str(entry.get("litellm_provider", "unknown")).lower() in only
        ):
            merge.add(key, entry)
    if dry_run or not (report.added or report.updated):
        return report
    out = io.StringIO()
    y.dump(tree, out)
    _replace_validated(path, out.getvalue())
    clear = getattr(catalog.models_catalog, "cache_clear", None)
    if clear is not None:
        clear()
    return ImportReport(**{**report.__dict__, "written": True})


def _target_catalog(catalog_path: str | Path | None, dry_run: bool) -> Path:
    """The catalog file to extend; the installed package's own is refused unless *dry_run*."""
    if catalog_path is not None:
        return Path(catalog_path)
    path = assumptions_dir() / "catalog" / "models.yaml"
    if not dry_run and _inside_package(path):
        raise TcpmfError(
            f"{display_path(path)} is the catalog inside the installed tcpmf package; "
            "an upgrade would overwrite it. Copy it and give --catalog PATH (and "
            "TCPMF_ASSUMPTIONS to use the copy), or use --dry-run"
        )
    return path


def _read_catalog_tree(path: Path, y: YAML) -> CommentedMap:
    """The catalog at *path* as a round-trip tree (comments kept), checked to be a model catalog."""
    if (
        catalog.validate_file(path) != "models"
    ):  # a bad catalog is reported as it is, before any change
        raise AssumptionError(
            display_path(path), "models", "a model catalog (a top-level mapping 'models')"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssumptionError(display_path(path), "", f"cannot be read ({exc.strerror})") from None
    tree = y.load(text)
    if not isinstance(tree, CommentedMap) or not isinstance(tree.get("models"), CommentedMap):
        raise AssumptionError(
            display_path(path), "models", "a model catalog (a top-level mapping 'models')"
        )
    return tree


@dataclass
class _Merge:
    """Adds price-map entries to the catalog tree *known*, recording each outcome in *report*."""

    report: ImportReport
    known: CommentedMap
    aliases: dict[str, str]
    map_file: str
    directory: Path  # the assumptions folder whose fx.yaml converts CNY records
    banner: str  # the comment above the first new model
    first_new: bool = True

    def add(self, key: str, entry: Mapping[str, Any]) -> None:
        """One price-map entry: a new model, a new dated record of a known one, or a skip with why."""
        report, known = self.report, self.known
        name = self.aliases.get(key, key)
        if (
            key not in self.aliases
            and "/" in key
            and key not in known
            and key.rsplit("/", 1)[-1] in known
        ):
            short = key.rsplit("/", 1)[-1]
            report.skipped[key] = (
                f"provider-prefixed key; the catalog has {short!r}: map it with "
                f"--name-map {key}={short} (not added as a new model)"
            )
            return
        if name in report.records:
            report.skipped[key] = f"maps to {name!r}, already imported from another key"
            return
        record = _new_record(entry, key, self.map_file)
        if isinstance(record, str):
            report.skipped[key] = record
            return
        report.records[name] = record
        new = CommentedMap([("date", DoubleQuotedScalarString(report.month))])
        for entry_key, value in record.items():
            new[entry_key] = value
        new["source"] = DoubleQuotedScalarString(report.source)
        if name in known:
            self._update(name, record, new)
            return
        known[name] = CommentedMap(
            [
                ("provider", str(entry.get("litellm_provider", "unknown"))),
                (
                    "note",
                    DoubleQuotedScalarString(
                        "imported from a price map; no capability score until one is added to "
                        "catalog/capability.yaml"
                    ),
                ),
                ("prices", CommentedSeq([new])),
            ]
        )
        if self.first_new:
            known.yaml_set_comment_before_after_key(
                name,
                before=f"\n---------------------------------------------------------------- {self.banner}",
                indent=2,
            )
            self.first_new = False
        report.added.append(name)

    def _update(self, name: str, record: Mapping[str, float], new: CommentedMap) -> None:
        """A known model: unchanged, a new dated record, or refused (history is not rewritten)."""
        report = self.report
        prices = self.known[name]["prices"]
        latest = prices[-1]
        if _same(latest, record, self.directory):
            report.unchanged.append(name)
        elif month_index(str(latest["date"])) >= month_index(report.month):
            report.skipped[name] = (
                f"price changed, but the catalog already has a record dated "
                f"{latest['date']} (on or after {report.month}); history is not rewritten"
            )
            del report.records[name]
        else:
            prices.append(new)
            report.updated.append(name)


def _replace_validated(path: Path, text: str) -> None:
    """Write *text* to *path* atomically, after checking it is a valid catalog."""
    handle, tmp = tempfile.mkstemp(suffix=".yaml", prefix=".import-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        try:
            catalog.validate_file(tmp)
        except AssumptionError as exc:
            allowed = exc.allowed.splitlines()[0].strip() if exc.allowed else "invalid"
            value = "" if exc.value is MISSING else f" = {exc.value!r}"
            raise TcpmfError(
                f"{display_path(path)}: the imported prices would make the catalog invalid, "
                f"nothing was written ({exc.key_path}{value}: {allowed})"
            ) from None
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
