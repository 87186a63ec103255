r"""Uncertain inputs: a distribution in place of any numeric value of an assumption file.

A distribution is a mapping with a ``dist`` key, anywhere a number may stand::

    usage:
      sessions_per_day: {dist: lognormal, p05: 0.8, p95: 3.0, source: "assumed: ..."}
    model:
      name: {dist: choice, options: [gpt-4o, gpt-4o-mini], weights: [0.3, 0.7]}

=============  ===============================  ==========================================
``dist``       parameters                       draws
=============  ===============================  ==========================================
fixed          ``value``                        always ``value``
uniform        ``low, high``                    uniform on ``[low, high]``
triangular     ``low, mode, high``              triangular
normal         ``mean, sd`` [``low, high``]     normal, truncated to ``[low, high]``
lognormal      ``p05, p95`` [``low, high``]     lognormal with that 90% interval
beta           ``alpha, beta`` or ``mean, sd``  beta on ``[low, high]`` (default 0..1: rates)
               [``low, high``]
choice         ``options`` [``weights``]        one of the options (numbers or names)
=============  ===============================  ==========================================

Every distribution maps a uniform number ``u`` in (0, 1) to a value by its quantile function
(:meth:`Distribution.ppf`, scipy.stats underneath), so Monte Carlo, Latin hypercube, rank
correlation and Sobol designs all sample through one function.  A distribution's *nominal*
value (what a single-point run such as ``tcpmf breakeven`` uses) is its median, or ``base`` when
given; a choice's is its most likely option.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tcpmf.core.errors import AssumptionError

__all__ = [
    "DISTRIBUTION_KEYS",
    "U_HIGH",
    "U_LOW",
    "Beta",
    "Choice",
    "Distribution",
    "Fixed",
    "LogNormal",
    "Normal",
    "Triangular",
    "Uniform",
    "parse_distribution",
    "support_probe",
]

#: The smallest and largest uniform a draw uses (``tcpmf.uncertainty.sampling.uniforms``); a
#: distribution's reach, checked against its key's bounds at load, is its quantiles there.
U_LOW, U_HIGH = 0.0, 1.0 - 2.0**-53

Z95 = 1.6448536269514722  # scipy.stats.norm.ppf(0.95): half-width of a 90% interval in sd


def _stats() -> Any:
    """scipy.stats, imported on first use so that ``import tcpmf`` stays quick."""
    from scipy import stats

    return stats


Number = Annotated[float, Field(allow_inf_nan=False)]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Annotation keys a distribution carries like any annotated value (not parameters).
    source: str | None = Field(default=None, min_length=1)
    assumed: str | None = Field(default=None, min_length=1)
    note: str | None = Field(default=None, min_length=1)
    currency: Literal["USD", "CNY"] = "USD"
    base: Number | None = None

    numeric: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_reason(self) -> _Base:
        if self.source is not None and self.assumed is not None:
            raise ValueError("either source or assumed, not both")
        if self.base is not None and not self.low_bound() <= self.base <= self.high_bound():
            raise ValueError(
                f"a base within the distribution's range [{self.low_bound():g}, {self.high_bound():g}] (got {self.base:g})"
            )
        return self

    # -- the interface every distribution has ------------------------------------------------
    def ppf(self, u: NDArray[np.float64]) -> NDArray[Any]:
        """The value at quantile *u* (an array of numbers in [0, 1)), within the bounds.

        The quantile functions of scipy may land a rounding error outside a truncation bound
        (0.00999… for ``low: 0.01``) or return inf next to 1; values are clipped to
        ``[low_bound, high_bound]``, so a draw never breaks the range the schema was checked on.
        """
        return np.clip(self._quantile(np.asarray(u, float)), self.low_bound(), self.high_bound())

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        raise NotImplementedError

    def low_bound(self) -> float:
        """The smallest value it can draw (may be -inf)."""
        raise NotImplementedError

    def high_bound(self) -> float:
        """The largest value it can draw (may be inf)."""
        raise NotImplementedError

    def nominal(self) -> Any:
        """The single value a point run uses: ``base`` if given, else the median."""
        if self.base is not None:
            return self.base
        return float(self.ppf(np.array([0.5]))[0])

    def scaled(self, factor: float) -> Distribution:
        """The same distribution of ``factor × value`` (currency conversion)."""
        raise NotImplementedError

    def reason(self) -> str | None:
        return (
            self.source
            if self.source is not None
            else (f"assumed: {self.assumed}" if self.assumed else None)
        )

    def spec(self) -> dict[str, Any]:
        """The parameters as a plain mapping (for manifests and hashes)."""
        out = self.model_dump(exclude_none=True, exclude={"source", "assumed", "note"})
        if out.get("currency") == "USD":
            del out["currency"]
        return out

    def _scale_fields(self, factor: float, names: tuple[str, ...]) -> Distribution:
        update = {
            n: getattr(self, n) * factor
            for n in (*names, "base")
            if getattr(self, n, None) is not None
        }
        return self.model_copy(update={**update, "currency": "USD"})  # type: ignore[return-value]


class Fixed(_Base):
    dist: Literal["fixed"]
    value: Number | str

    @property
    def numeric(self) -> bool:  # type: ignore[override]
        return not isinstance(self.value, str)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[Any]:
        return np.full(
            np.shape(u), self.value, dtype=object if isinstance(self.value, str) else float
        )

    def low_bound(self) -> float:
        return float(self.value) if not isinstance(self.value, str) else math.nan

    def high_bound(self) -> float:
        return self.low_bound()

    def nominal(self) -> Any:
        return self.value

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("value",))


class Uniform(_Base):
    dist: Literal["uniform"]
    low: Number
    high: Number

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low below high (got low {self.low:g}, high {self.high:g})")
        return self

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        return self.low + (self.high - self.low) * np.asarray(u, float)

    def low_bound(self) -> float:
        return self.low

    def high_bound(self) -> float:
        return self.high

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("low", "high"))


class Triangular(_Base):
    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"low <= mode <= high with low < high (got {self.low:g}, {self.mode:g}, {self.high:g})"
            )
        return self

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        width = self.high - self.low
        return _stats().triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)  # type: ignore[no-any-return]

    def low_bound(self) -> float:
        return self.low

    def high_bound(self) -> float:
        return self.high

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("low", "mode", "high"))


class Normal(_Base):
    dist: Literal["normal"]
    mean: Number
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Number | None = None
    high: Number | None = None

    @model_validator(mode="after")
    def _order(self) -> Normal:
        if not self.low_bound() < self.high_bound():
            raise ValueError(f"low below high (got low {self.low}, high {self.high})")
        if (
            _stats().norm.cdf(self.high_bound(), self.mean, self.sd)
            - _stats().norm.cdf(self.low_bound(), self.mean, self.sd)
            < 1e-9
        ):
            raise ValueError("low..high holding some probability of the normal (it is all cut off)")
        return self

    def _frozen(self) -> Any:
        a = (self.low_bound() - self.mean) / self.sd
        b = (self.high_bound() - self.mean) / self.sd
        return _stats().truncnorm(a, b, loc=self.mean, scale=self.sd)

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        # scipy's truncnorm.ppf loses its precision next to u = 1 (NaN or inf at 1 - 2**-53 with only a
        # lower bound); the upper half is read from the survival function at 1 - u (exact for u >= 0.5)
        frozen = self._frozen()
        u = np.asarray(u, dtype=float)
        upper = u > 0.5
        out = np.empty_like(u)
        out[~upper] = frozen.ppf(u[~upper])
        out[upper] = frozen.isf(1.0 - u[upper])
        return out

    def low_bound(self) -> float:
        return -math.inf if self.low is None else self.low

    def high_bound(self) -> float:
        return math.inf if self.high is None else self.high

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("mean", "sd", "low", "high"))


class LogNormal(_Base):
    dist: Literal["lognormal"]
    p05: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    p95: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    high: Number | None = None

    @model_validator(mode="after")
    def _order(self) -> LogNormal:
        if not self.p05 < self.p95:
            raise ValueError(f"p05 below p95 (got p05 {self.p05:g}, p95 {self.p95:g})")
        if not self.low_bound() < self.high_bound():
            raise ValueError(f"low below high (got low {self.low}, high {self.high})")
        dist = _stats().lognorm(self.sigma, scale=math.exp(self.mu))
        if dist.cdf(self.high_bound()) - dist.cdf(self.low_bound()) < 1e-9:
            raise ValueError(
                "low..high holding some probability of the lognormal (it is all cut off)"
            )
        return self

    @property
    def mu(self) -> float:
        return (math.log(self.p05) + math.log(self.p95)) / 2

    @property
    def sigma(self) -> float:
        return (math.log(self.p95) - math.log(self.p05)) / (2 * Z95)

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        dist = _stats().lognorm(self.sigma, scale=math.exp(self.mu))
        lo, hi = dist.cdf(self.low_bound()), dist.cdf(self.high_bound())
        return dist.ppf(lo + (hi - lo) * np.asarray(u, float))  # type: ignore[no-any-return]

    def low_bound(self) -> float:
        return 0.0 if self.low is None else self.low

    def high_bound(self) -> float:
        return math.inf if self.high is None else self.high

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("p05", "p95", "low", "high"))


class Beta(_Base):
    dist: Literal["beta"]
    alpha: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    beta: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    mean: Number | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    low: Number = 0.0
    high: Number = 1.0

    @model_validator(mode="after")
    def _shape(self) -> Beta:
        if not self.low < self.high:
            raise ValueError(f"low below high (got low {self.low:g}, high {self.high:g})")
        by_shape = self.alpha is not None and self.beta is not None
        by_moments = self.mean is not None and self.sd is not None
        if (
            by_shape == by_moments
            or (self.alpha is None) != (self.beta is None)
            or (self.mean is None) != (self.sd is None)
        ):
            raise ValueError("either alpha and beta, or mean and sd (not both)")
        if by_moments:
            assert self.mean is not None and self.sd is not None
            m = (self.mean - self.low) / (self.high - self.low)
            v = (self.sd / (self.high - self.low)) ** 2
            if not 0 < m < 1 or v >= m * (1 - m):
                raise ValueError(
                    f"a mean strictly between low and high and sd below sqrt(m(1-m)) = "
                    f"{math.sqrt(max(m * (1 - m), 0)) * (self.high - self.low):.4g} (got mean {self.mean:g}, sd {self.sd:g})"
                )
        return self

    def shape(self) -> tuple[float, float]:
        if self.alpha is not None and self.beta is not None:
            return self.alpha, self.beta
        assert self.mean is not None and self.sd is not None
        m = (self.mean - self.low) / (self.high - self.low)
        v = (self.sd / (self.high - self.low)) ** 2
        k = m * (1 - m) / v - 1
        return m * k, (1 - m) * k

    def _quantile(self, u: NDArray[np.float64]) -> NDArray[Any]:
        a, b = self.shape()
        return _stats().beta.ppf(u, a, b, loc=self.low, scale=self.high - self.low)  # type: ignore[no-any-return]

    def low_bound(self) -> float:
        return self.low

    def high_bound(self) -> float:
        return self.high

    def scaled(self, factor: float) -> Distribution:
        return self._scale_fields(factor, ("mean", "sd", "low", "high"))


class Choice(_Base):
    dist: Literal["choice"]
    options: list[Number | str] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.options):
                raise ValueError(
                    f"one weight per option ({len(self.options)} options, {len(self.weights)} weights)"
                )
            if abs(sum(self.weights) - 1.0) > 1e-6:
                raise ValueError(f"weights that sum to 1 (they sum to {sum(self.weights):g})")
        kinds = {isinstance(o, str) for o in self.options}
        if len(kinds) > 1:
            raise ValueError("options all numbers or all names, not a mix")
        if len(set(map(str, self.options))) != len(self.options):
            raise ValueError("distinct options")
        if self.base is not None and self.base not in [
            float(o) for o in self.options if not isinstance(o, str)
        ]:
            raise ValueError(f"a base that is one of the options (got {self.base:g})")
        return self

    @property
    def numeric(self) -> bool:  # type: ignore[override]
        return not isinstance(self.options[0], str)

    def probabilities(self) -> NDArray[np.float64]:
        n = len(self.options)
        return (
            np.full(n, 1.0 / n)
            if self.weights is None
            else np.asarray(self.weights, float) / sum(self.weights)
        )

    def codes(self, u: NDArray[np.float64]) -> NDArray[np.int64]:
        """The index of the option drawn at quantile *u*."""
        edges = np.cumsum(self.probabilities())
        return np.minimum(
            np.searchsorted(edges, np.asarray(u, float), side="right"), len(self.options) - 1
        )

    def ppf(self, u: NDArray[np.float64]) -> NDArray[Any]:
        """Numbers are drawn in increasing order of value (so the quantile function rises and a
        rank correlation with a numeric choice means what it says); names in the order given."""
        if not self.numeric:
            return np.asarray(self.options, dtype=object)[self.codes(u)]  # type: ignore[no-any-return]
        values = np.asarray(self.options, dtype=float)
        order = np.argsort(values, kind="stable")
        edges = np.cumsum(self.probabilities()[order])
        picked = np.minimum(
            np.searchsorted(edges, np.asarray(u, float), side="right"), len(values) - 1
        )
        return values[order][picked]  # type: ignore[no-any-return]

    def low_bound(self) -> float:
        return min(float(o) for o in self.options) if self.numeric else math.nan

    def high_bound(self) -> float:
        return max(float(o) for o in self.options) if self.numeric else math.nan

    def nominal(self) -> Any:
        """``base`` (one of the options) if given, else the most likely option."""
        if self.base is not None:
            return self.base
        return self.options[int(np.argmax(self.probabilities()))]

    def scaled(self, factor: float) -> Distribution:
        if not self.numeric:
            return self
        return self.model_copy(
            update={"options": [float(o) * factor for o in self.options], "currency": "USD"}
        )


Distribution = Fixed | Uniform | Triangular | Normal | LogNormal | Beta | Choice
_KINDS: dict[str, type[_Base]] = {
    "fixed": Fixed,
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "lognormal": LogNormal,
    "beta": Beta,
    "choice": Choice,
}
#: The names ``dist`` may take.
DISTRIBUTION_KEYS = tuple(_KINDS)


def parse_distribution(spec: Any, file: str, key_path: str) -> Distribution:
    """Validate a ``{dist: ..., ...}`` mapping; a bad one raises :class:`AssumptionError` naming
    *file*, *key_path*, the bad value and what is allowed."""
    if isinstance(spec, _Base):
        return spec  # type: ignore[return-value]
    if not isinstance(spec, dict) or "dist" not in spec:
        raise AssumptionError(
            file,
            key_path,
            f"a distribution mapping {{dist: {' | '.join(DISTRIBUTION_KEYS)}, ...}}",
            spec,
        )
    kind = spec["dist"]
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise AssumptionError(
            file, f"{key_path}.dist", f"one of {', '.join(DISTRIBUTION_KEYS)}", kind
        )
    try:
        return cls.model_validate(spec)  # type: ignore[return-value]
    except ValidationError as exc:
        # an unknown parameter first: a misspelt one (lo for low) also leaves its parameter missing
        err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        where = ".".join(str(p) for p in err["loc"])
        params = [
            n
            for n in cls.model_fields
            if n not in ("dist", "source", "assumed", "note", "currency", "base")
        ]
        if err["type"] == "extra_forbidden":
            allowed = f"the {kind} parameters {', '.join(params)} (and base, source, assumed, note, currency)"
        elif err["type"] == "missing":
            allowed = f"a value: {kind} needs {', '.join(n for n in params if cls.model_fields[n].is_required())}"
        else:
            allowed = str(err["msg"]).removeprefix("Value error, ")
        path = f"{key_path}.{where}" if where else key_path
        value = err.get("input") if where else spec
        raise AssumptionError(file, path, allowed, value) from None


def support_probe(value: Any) -> Any:
    """A value a distribution can draw, as its key's schema is tried with it: a whole float as an
    int (strict whole-number keys accept it), an infinity as ±1e300 (the schema's bounds refuse
    it by name rather than as "not finite")."""
    if not isinstance(value, float):
        return value
    if math.isinf(value):
        return math.copysign(1e300, value)
    return int(value) if value.is_integer() else value
