r"""Rules across keys, checked on every combination of extremes the drawn inputs can reach.

A key's own bounds are checked on its distribution's reach when a file is loaded
(``_check_reach`` in :mod:`tcpmf.schema.scenario`); a rule across keys (a plateau's
``retention.floor`` no higher than ``retention.r1``, a paid budget only with a positive
``growth.cac_usd``, a deal's seat price or project fee, the moat's weights adding up to at most
1 …) can hold at every nominal value and still break for some draws when two of its keys are
drawn, or one is drawn beside a fixed one.  :func:`check_joint_reach` refuses that up front, so
that ``tcpmf validate`` and :func:`tcpmf.load` refuse what ``tcpmf run`` would refuse mid-batch.

Each rule is written once, in ``_check_relations``: it is run on *corner* scenarios, the nominal
scenario with some drawn inputs moved to an extreme of their reach (the quantiles at
:data:`~tcpmf.schema.distributions.U_LOW` and :data:`~tcpmf.schema.distributions.U_HIGH`, or each
option of a choice).  Corners are tried by how many inputs they move, one, then two, …, so the
first corner refused names the fewest inputs that break the rule together.  Every rule tcpmf has
is monotone in each number it reads (a threshold, a sum, a product), so a rule that holds on
every corner holds for every draw.  With k drawn inputs of two extremes each there are
:math:`3^k - 1` corners; all are tried while that stays within :data:`MAX_CORNERS` (k ≤ 7), else
every corner that moves at most as many inputs as the budget allows (at least every pair).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from tcpmf.core.errors import AssumptionError
from tcpmf.core.yamlio import origin_file, validation_error
from tcpmf.schema.distributions import U_HIGH, U_LOW, Choice, Distribution, support_probe
from tcpmf.schema.scenario import Scenario, _check_relations, _get_or_none, _set

__all__ = ["MAX_CORNERS", "check_joint_reach", "corners", "reach"]

#: The most corner scenarios one check validates (about 0.1 ms each).
MAX_CORNERS = 4096

#: Where a drawn key is reported, by key: its file and key path there (a portfolio's entry, say).
Locate = Mapping[str, tuple[str, str]]


def reach(dist: Distribution) -> list[Any]:
    """The extreme values *dist* can draw, as its key's schema is tried with them: a choice's
    options, else its quantiles at the sampler's smallest and largest uniform."""
    if isinstance(dist, Choice):
        return [support_probe(o) for o in dist.options]
    values = [float(v) for v in dist.ppf(np.array([U_LOW, U_HIGH]))]
    return [support_probe(v) for v in dict.fromkeys(values)]


def corners(extremes: Mapping[str, list[Any]], budget: int = MAX_CORNERS) -> list[dict[str, Any]]:
    """The combinations of extremes to try: each moves some keys of *extremes* (key → values other
    than its nominal one), fewest keys first, as many keys at once as *budget* allows (at least 2).

    >>> [sorted(c.items()) for c in corners({"a": [0, 1], "b": [5]})]
    [[('a', 0)], [('a', 1)], [('b', 5)], [('a', 0), ('b', 5)], [('a', 1), ('b', 5)]]
    """
    keys = [k for k in extremes if extremes[k]]
    out: list[dict[str, Any]] = []
    for size in range(1, len(keys) + 1):
        subsets = list(itertools.combinations(keys, size))
        count = sum(math.prod(len(extremes[k]) for k in subset) for subset in subsets)
        if size > 2 and len(out) + count > budget:
            break
        for subset in subsets:
            for values in itertools.product(*(extremes[k] for k in subset)):
                out.append(dict(zip(subset, values)))
    return out


def _refusal(scenario: Scenario, plain: dict[str, Any], corner: Mapping[str, Any]) -> Any:
    """The :class:`AssumptionError` the scenario with *corner*'s values would raise, or None."""
    trial = copy.deepcopy(plain)
    for key, value in corner.items():
        _set(trial, key, value)
    provenance = scenario._provenance
    try:
        moved = Scenario.model_validate(trial)
    except ValidationError as exc:
        return validation_error(exc, scenario.file, trial, Scenario, provenance)
    try:
        _check_relations(
            moved, lambda path: origin_file(provenance, path, scenario.file), scenario.file
        )
    except AssumptionError as exc:
        return exc
    return None


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _range(dist: Distribution) -> str:
    if isinstance(dist, Choice):
        return f"options [{', '.join(_show(o) for o in dist.options)}]"
    low, high = (float(v) for v in dist.ppf(np.array([U_LOW, U_HIGH])))
    return f"range [{low:g}, {high:g}]"


def check_joint_reach(
    scenario: Scenario,
    locate: Locate | None = None,
    written: Mapping[str, Any] | None = None,
) -> None:
    """Refuse drawn inputs whose extremes, together or beside the fixed values, break a rule across keys.

    Parameters
    ----------
    scenario
        A validated scenario whose file holds distributions (:attr:`Scenario.uncertainties`).
    locate
        Where a drawn key is reported, ``{key: (file, key path)}``; default the file that set it.
    written
        The distributions as the file has them, by key (the refused value shown); default their spec.

    Raises
    ------
    AssumptionError
        Naming the file, the drawn key the broken rule is about (or the first one that breaks it),
        every drawn key involved with its range, the values that break it and the rule.

    Examples
    --------
    >>> import tcpmf
    >>> s = tcpmf.load("assumptions/products/ai_companion.yaml")
    >>> risky = s.override({
    ...     "retention.floor": {"dist": "uniform", "low": 0.05, "high": 0.3},
    ...     "retention.r1": {"dist": "uniform", "low": 0.2, "high": 0.4},
    ... })
    >>> try:
    ...     check_joint_reach(risky)
    ... except tcpmf.AssumptionError as exc:
    ...     print(exc.key_path)
    ...     print(exc.allowed)
    retention.floor
    ranges no draw of which breaks a rule across keys: retention.floor's range [0.05, 0.3] and retention.r1's range [0.2, 0.4] can be drawn together as retention.floor = 0.3, retention.r1 = 0.2, and then retention.floor must be a floor no higher than r1 (0.2); make the ranges disjoint or narrow them so that no draw breaks the rule
    """
    dists = scenario.uncertainties
    if not dists:
        return
    plain = scenario.model_dump(exclude_unset=True)
    extremes = {
        key: [v for v in reach(dist) if v != _get_or_none(plain, key)]
        for key, dist in dists.items()
    }
    for corner in corners(extremes):
        refused = _refusal(scenario, plain, corner)
        if refused is not None:
            raise _explain(scenario, corner, refused, locate, written or {}) from None


def _explain(
    scenario: Scenario,
    corner: Mapping[str, Any],
    refused: AssumptionError,
    locate: Locate | None,
    written: Mapping[str, Any],
) -> AssumptionError:
    dists = scenario.uncertainties
    key = refused.key_path if refused.key_path in corner else next(iter(corner))
    keys = [key, *(k for k in corner if k != key)]
    rule = refused.allowed.removeprefix("must be ")
    broken = f"{refused.key_path} must be {rule}"
    if len(keys) == 1:
        what = f"option {corner[key]!r}" if isinstance(dists[key], Choice) else _show(corner[key])
        because = broken if refused.key_path == key else f"with it, {broken}"
        allowed = (
            f"a distribution that draws only allowed values: it can draw {what}, and {because}"
            f"{'' if isinstance(dists[key], Choice) else ' (narrow its range)'}"
        )
    else:
        ranges = " and ".join(f"{k}'s {_range(dists[k])}" for k in keys)
        values = ", ".join(f"{k} = {_show(corner[k])}" for k in keys)
        allowed = (
            f"ranges no draw of which breaks a rule across keys: {ranges} can be drawn together as "
            f"{values}, and then {broken}; make the ranges disjoint or narrow them so that no draw "
            "breaks the rule"
        )
    file, path = (locate or {}).get(key) or (
        origin_file(scenario._provenance, key, scenario.file),
        key,
    )
    return AssumptionError(file, path, allowed, written.get(key, dists[key].spec()))
