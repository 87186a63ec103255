"""Dated catalogs: API list prices, GPUs and their rent, and the CNY/USD exchange rate.

Catalog files live in ``assumptions/catalog/``.  Each priced record carries the month it took
effect (``date``, ``YYYY-MM``) and its ``source``.  A price is looked up *in force* at a month: the
latest record dated on or before it.  Money is USD inside; records may state CNY, which converts at
the exchange rate in force at the record's date (``fx.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from tcpmf.catalog.capability_schema import CapabilityFile
from tcpmf.catalog.serving import ArchitecturesFile, ServingCalibrationFile
from tcpmf.core.errors import AssumptionError, close_matches
from tcpmf.core.months import MONTH_PATTERN, month_index
from tcpmf.core.sections import Section
from tcpmf.core.yamlio import (
    assumptions_dir,
    display_path,
    load_validated,
    read_yaml,
    validation_error,
)

__all__ = [
    "ApiPrice",
    "GpuRent",
    "close_matches",
    "cny_per_usd",
    "gpu_names",
    "gpu_rent",
    "gpu_spec",
    "model_names",
    "model_price",
]

Month = Annotated[str, Field(pattern=MONTH_PATTERN)]
Price = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


def _check_dated(records: list[Any], what: str) -> None:
    dates = [r.date for r in records]
    if dates != sorted(set(dates)):
        raise ValueError(f"{what} records must be in increasing date order, got {dates}")


class _PriceRecord(Section):
    date: Month
    source: str = Field(min_length=3)
    usd_per_mtok_in: Price | None = None
    usd_per_mtok_out: Price | None = None
    usd_per_mtok_cached_in: Price | None = None
    cny_per_mtok_in: Price | None = None
    cny_per_mtok_out: Price | None = None
    cny_per_mtok_cached_in: Price | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> _PriceRecord:
        usd = self.usd_per_mtok_in is not None and self.usd_per_mtok_out is not None
        cny = self.cny_per_mtok_in is not None and self.cny_per_mtok_out is not None
        if usd == cny:
            raise ValueError(
                "a price record gives usd_per_mtok_in and usd_per_mtok_out, "
                "or cny_per_mtok_in and cny_per_mtok_out (exactly one currency)"
            )
        other = "cny" if usd else "usd"
        if getattr(self, f"{other}_per_mtok_cached_in") is not None:
            raise ValueError("the cached-input price must be in the record's currency")
        return self


class _ModelEntry(Section):
    provider: str
    # accepted for catalogs of earlier versions, used by nothing: capability tiers are thresholds
    # on a public score (catalog/capability.yaml), never a hand tag
    tier: str | None = None
    open_weights: bool = False
    note: str | None = None
    prices: list[_PriceRecord] = Field(min_length=1)

    @model_validator(mode="after")
    def _dated_in_order(self) -> _ModelEntry:
        _check_dated(self.prices, "price")
        return self


class _ModelsFile(Section):
    models: dict[str, _ModelEntry]


class _RentRecord(Section):
    date: Month
    source: str = Field(min_length=3)
    usd_per_gpu_hour: Price | None = None
    cny_per_gpu_hour: Price | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> _RentRecord:
        if (self.usd_per_gpu_hour is None) == (self.cny_per_gpu_hour is None):
            raise ValueError(
                "a rent record gives usd_per_gpu_hour or cny_per_gpu_hour (exactly one)"
            )
        return self


class _GpuEntry(Section):
    vendor: str
    memory_gb: Annotated[float, Field(gt=0)]
    memory_bandwidth_tb_per_s: Annotated[float, Field(gt=0)]
    bf16_dense_tflops: Annotated[float, Field(gt=0)]
    fp8_dense_tflops: Annotated[float, Field(gt=0)] | None = None
    spec_source: str = Field(min_length=3)
    note: str | None = None
    rents: list[_RentRecord] = Field(min_length=1)

    @model_validator(mode="after")
    def _dated_in_order(self) -> _GpuEntry:
        _check_dated(self.rents, "rent")
        return self


class _GpusFile(Section):
    gpus: dict[str, _GpuEntry]


class _FxRecord(Section):
    date: Month
    cny_per_usd: Annotated[float, Field(gt=1, lt=20)]
    source: str = Field(min_length=3)


class _FxFile(Section):
    cny_per_usd: list[_FxRecord] = Field(min_length=1)


@dataclass(frozen=True)
class ApiPrice:
    """One API list price in force, converted to USD per 1M tokens."""

    model: str
    date: str
    usd_per_mtok_in: float
    usd_per_mtok_out: float
    usd_per_mtok_cached_in: float | None
    source: str


@dataclass(frozen=True)
class GpuRent:
    """One GPU rent in force, converted to USD per GPU-hour."""

    gpu: str
    date: str
    usd_per_gpu_hour: float
    source: str


_load = load_validated


@lru_cache(maxsize=4)
def models_catalog(directory: Path) -> _ModelsFile:
    """The API price catalog (``catalog/models.yaml`` under *directory*), validated once and cached."""
    return _load(directory / "catalog" / "models.yaml", _ModelsFile)


@lru_cache(maxsize=4)
def _gpus(directory: Path) -> _GpusFile:
    return _load(directory / "catalog" / "gpus.yaml", _GpusFile)


@lru_cache(maxsize=4)
def _fx(directory: Path) -> _FxFile:
    fx = _load(directory / "catalog" / "fx.yaml", _FxFile)
    dates = [r.date for r in fx.cny_per_usd]
    if dates != sorted(set(dates)):
        raise AssumptionError(
            str(directory / "catalog" / "fx.yaml"),
            "cny_per_usd",
            "records in increasing date order",
            dates,
        )
    return fx


CATALOG_KEYS: dict[str, type[BaseModel]] = {
    "models": _ModelsFile,
    "gpus": _GpusFile,
    "cny_per_usd": _FxFile,
    "architectures": ArchitecturesFile,
    "serving_calibration": ServingCalibrationFile,
    "capability": CapabilityFile,
}


def validate_file(path: str | Path) -> str | None:
    """Validate *path* as a catalog file if its top-level key says it is one.

    Returns the kind of catalog (``"models"``, ``"gpus"``, ``"cny_per_usd"``), or None when the
    file is not a catalog.  Raises :class:`~tcpmf.core.errors.AssumptionError` when it is a bad one.
    """
    data = read_yaml(path)
    for key, schema in CATALOG_KEYS.items():
        if key in data:
            try:
                schema.model_validate(data)
            except ValidationError as exc:
                raise validation_error(exc, display_path(Path(path)), data, schema) from None
            return key
    return None


def in_force(records: list[Any], month: str) -> Any | None:
    """The latest record dated on or before *month* (records are sorted by date)."""
    chosen = None
    for record in records:
        if month_index(record.date) <= month_index(month):
            chosen = record
    return chosen


def model_names(directory: Path | None = None) -> list[str]:
    """Every model of the API price catalog, sorted."""
    return sorted(models_catalog(directory or assumptions_dir()).models)


def gpu_names(directory: Path | None = None) -> list[str]:
    """Every GPU of the GPU catalog, sorted."""
    return sorted(_gpus(directory or assumptions_dir()).gpus)


def cny_per_usd(month: str, directory: Path | None = None) -> float:
    """CNY per USD in force at *month* (the earliest record if *month* precedes them all)."""
    records = _fx(directory or assumptions_dir()).cny_per_usd
    record = in_force(records, month) or records[0]
    return record.cny_per_usd


def _unknown(kind: str, name: str, names: list[str]) -> str:
    near = close_matches(name, names)
    hint = f"close matches: {', '.join(near)}" if near else f"known: {', '.join(names)}"
    return f"a {kind} of the catalog (assumptions/catalog/); unknown name, {hint}"


def model_price(name: str, month: str, directory: Path | None = None) -> ApiPrice:
    """The API list price of model *name* in force at *month*, in USD per 1M tokens.

    Raises :class:`KeyError` with an explanation for an unknown model and :class:`LookupError`
    when the model had no price yet at *month*; :mod:`tcpmf.schema.scenario` turns both into
    :class:`~tcpmf.core.errors.AssumptionError` naming the scenario file.
    """
    directory = directory or assumptions_dir()
    catalog = models_catalog(directory).models
    if name not in catalog:
        raise KeyError(_unknown("model", name, sorted(catalog)))
    entry = catalog[name]
    record = in_force(entry.prices, month)
    if record is None:
        raise LookupError(
            f"a start month on or after {entry.prices[0].date}, when {name} first had a list price"
        )
    if record.usd_per_mtok_in is not None:
        rate, unit_in, unit_out, unit_cached = (
            1.0,
            record.usd_per_mtok_in,
            record.usd_per_mtok_out,
            record.usd_per_mtok_cached_in,
        )
    else:
        rate = cny_per_usd(record.date, directory)
        unit_in, unit_out, unit_cached = (
            record.cny_per_mtok_in,
            record.cny_per_mtok_out,
            record.cny_per_mtok_cached_in,
        )
    assert unit_in is not None and unit_out is not None
    return ApiPrice(
        model=name,
        date=record.date,
        usd_per_mtok_in=unit_in / rate,
        usd_per_mtok_out=unit_out / rate,
        usd_per_mtok_cached_in=None if unit_cached is None else unit_cached / rate,
        source=record.source,
    )


def gpu_spec(name: str, directory: Path | None = None) -> _GpuEntry:
    """The vendor spec of GPU *name* (memory, bandwidth, dense TFLOP/s); :class:`KeyError` if unknown."""
    catalog = _gpus(directory or assumptions_dir()).gpus
    if name not in catalog:
        raise KeyError(_unknown("GPU", name, sorted(catalog)))
    return catalog[name]


def gpu_rent(name: str, month: str, directory: Path | None = None) -> GpuRent:
    """The rent of GPU *name* in force at *month*, in USD per GPU-hour (earliest if before all)."""
    directory = directory or assumptions_dir()
    catalog = _gpus(directory).gpus
    if name not in catalog:
        raise KeyError(_unknown("GPU", name, sorted(catalog)))
    records = catalog[name].rents
    record = in_force(records, month) or records[0]
    if record.usd_per_gpu_hour is not None:
        usd = record.usd_per_gpu_hour
    else:
        assert record.cny_per_gpu_hour is not None
        usd = record.cny_per_gpu_hour / cny_per_usd(record.date, directory)
    return GpuRent(gpu=name, date=record.date, usd_per_gpu_hour=usd, source=record.source)
