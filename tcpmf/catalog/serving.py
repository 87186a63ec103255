"""Serving catalogs: open-weight architectures and the roofline calibration.

``assumptions/catalog/architectures.yaml`` holds the shapes of open-weight models (parameters,
layers, key/value heads) that :mod:`tcpmf.catalog.roofline` turns into throughput;
``assumptions/catalog/serving_calibration.yaml`` holds the published throughput measurements and
the efficiency factors fitted to them.  Both are validated with pydantic like the price catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from tcpmf.core.months import MONTH_PATTERN
from tcpmf.core.sections import Section
from tcpmf.core.yamlio import assumptions_dir, load_validated

__all__ = [
    "Architecture",
    "ArchitecturesFile",
    "Measurement",
    "ServingCalibration",
    "ServingCalibrationFile",
    "architecture",
    "architecture_names",
    "serving_calibration",
]

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class _ArchitectureEntry(Section):
    params_total_billions: Annotated[float, Field(gt=0.001, le=1e5)]
    params_active_billions: Annotated[float, Field(gt=0.001, le=1e5)]
    layers: Annotated[int, Field(ge=1, le=1000)]
    kv_heads: Annotated[int, Field(ge=1, le=1024)]
    head_dim: Annotated[int, Field(ge=1, le=4096)]
    kv_elements_per_token_per_layer: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    released: Annotated[str, Field(pattern=MONTH_PATTERN)]
    source: str = Field(min_length=3)
    note: str | None = None


class ArchitecturesFile(Section):
    """Schema of ``architectures.yaml``."""

    architectures: dict[str, _ArchitectureEntry]


class Measurement(Section):
    """One published throughput: output tokens/s per replica at an input/output mix."""

    architecture: str
    gpu: str
    gpus_per_replica: Annotated[int, Field(ge=1, le=1024)]
    precision: Literal["fp8", "bf16"]
    input_tokens: Annotated[int, Field(ge=1, le=1_000_000)]
    output_tokens: Annotated[int, Field(ge=1, le=1_000_000)]
    output_tokens_per_s_per_replica: Positive
    source: str = Field(min_length=3)


class ServingCalibration(Section):
    """Efficiency factors of the roofline, fitted to :attr:`measurements`."""

    flop_efficiency: Share
    bandwidth_efficiency: Share
    memory_usable_share: Share
    max_batch: Annotated[int, Field(ge=1, le=1_000_000)]
    source: str = Field(min_length=3)
    measurements: list[Measurement] = Field(min_length=1)


class ServingCalibrationFile(Section):
    """Schema of ``serving_calibration.yaml``."""

    serving_calibration: ServingCalibration


@dataclass(frozen=True)
class Architecture:
    """One open-weight model's shape, as the roofline needs it."""

    name: str
    params_total: float
    params_active: float
    layers: int
    kv_elements_per_token_per_layer: int
    source: str


@lru_cache(maxsize=4)
def _architectures(directory: Path) -> ArchitecturesFile:
    loaded = load_validated(directory / "catalog" / "architectures.yaml", ArchitecturesFile)
    assert isinstance(loaded, ArchitecturesFile)
    return loaded


@lru_cache(maxsize=4)
def _calibration(directory: Path) -> ServingCalibration:
    loaded = load_validated(
        directory / "catalog" / "serving_calibration.yaml", ServingCalibrationFile
    )
    assert isinstance(loaded, ServingCalibrationFile)
    return loaded.serving_calibration


def architecture_names(directory: Path | None = None) -> list[str]:
    """Every architecture of the catalog, sorted."""
    return sorted(_architectures(directory or assumptions_dir()).architectures)


def architecture(name: str, directory: Path | None = None) -> Architecture:
    """The architecture *name*; :class:`KeyError` with the known names if unknown.

    Examples
    --------
    >>> architecture("llama-3.1-8b").layers
    32
    """
    entries = _architectures(directory or assumptions_dir()).architectures
    if name not in entries:
        raise KeyError(
            f"an architecture of assumptions/catalog/architectures.yaml; known: {', '.join(sorted(entries))}"
        )
    e = entries[name]
    kv = e.kv_elements_per_token_per_layer or 2 * e.kv_heads * e.head_dim
    return Architecture(
        name, e.params_total_billions * 1e9, e.params_active_billions * 1e9, e.layers, kv, e.source
    )


def serving_calibration(directory: Path | None = None) -> ServingCalibration:
    """The fitted efficiency factors and the measurements they were fitted to."""
    return _calibration(directory or assumptions_dir())
