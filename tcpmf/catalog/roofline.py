r"""Roofline throughput of a model served on GPUs (docs/model.md §1).

A replica of ``G`` GPUs serving a model of ``P`` parameters (``P_active`` per token for a
mixture-of-experts), ``b`` bytes per parameter, at a batch of ``B`` sequences of ``L`` tokens of
context:

.. math::

    \text{kv} &= \text{layers} \cdot e_{kv} \cdot b_{kv}
        \quad\text{bytes of KV cache per token (} e_{kv} = 2 \cdot \text{kv\_heads} \cdot \text{head\_dim}\text{)}\\
    B_{max} &= \left\lfloor \frac{m \cdot M G - P b}{L \cdot \text{kv}} \right\rfloor
        \quad\text{(largest batch whose weights and KV cache fit memory } M\text{)}\\
    \theta_{prefill} &= \frac{\eta_f F G}{2 P_{active}}\\
    \theta_{decode} &= \min\left(\frac{B \cdot \eta_{bw} W G}{P b + B \bar L\,\text{kv}},\;
        \frac{\eta_f F G}{2 P_{active}}\right)

with ``F`` FLOP/s and ``W`` bytes/s per GPU and ``\bar L`` the mean context during decode.  A
request of ``n_in`` prompt and ``n_out`` generated tokens keeps the replica busy
``n_in/θ_prefill + n_out/θ_decode`` seconds, so a stream of such requests yields
``n_out / (n_in/θ_prefill + n_out/θ_decode)`` output tokens per second — the quantity published
benchmarks report.

With ``B`` requests in flight, each receives ``v(B) = θ_mix(B) / B`` output tokens per second (prompts
of others interleave with its decoding).  ``v`` falls as ``B`` grows, so a speed ``v_user`` users
must be served at caps the batch at the largest ``B`` with ``v(B) ≥ v_user``
(:func:`max_batch_at_user_speed`); a response of ``n_out`` tokens then takes ``n_out / v_user``
seconds to generate.

The efficiencies ``η_f``, ``η_bw``, the usable memory share ``m`` and the batch cap come from
``assumptions/catalog/serving_calibration.yaml``, fitted by :func:`calibrate` to the published
TensorRT-LLM measurements stored there.  Every function broadcasts over its array arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from tcpmf.catalog.prices import gpu_spec
from tcpmf.catalog.serving import Measurement, ServingCalibration, architecture, serving_calibration
from tcpmf.core.errors import TcpmfError

__all__ = [
    "BYTES_PER_PARAM",
    "Throughput",
    "calibrate",
    "calibration_ratios",
    "decode_tokens_per_s_per_replica",
    "estimate",
    "kv_bytes_per_token",
    "max_batch_at_user_speed",
    "max_batch_fitting_memory",
    "mix_output_tokens_per_s_per_replica",
    "prefill_tokens_per_s_per_replica",
]

F = NDArray[np.float64]
Precision = Literal["fp8", "bf16"]

#: Bytes per weight (and per KV-cache element) at each serving precision.
BYTES_PER_PARAM: dict[str, float] = {"fp8": 1.0, "bf16": 2.0}


def kv_bytes_per_token(
    layers: ArrayLike, kv_elements_per_token_per_layer: ArrayLike, bytes_per_element: ArrayLike
) -> F:
    """Bytes of KV cache one token of context occupies: ``layers · e_kv · b``.

    Examples
    --------
    >>> float(kv_bytes_per_token(32, 2 * 8 * 128, 1.0))  # Llama 3.1 8B, FP8 cache: 64 KiB
    65536.0
    """
    return (
        np.asarray(layers, float)
        * np.asarray(kv_elements_per_token_per_layer, float)
        * np.asarray(bytes_per_element, float)
    )


def max_batch_fitting_memory(
    memory_bytes_per_replica: ArrayLike,
    weight_bytes: ArrayLike,
    kv_bytes_per_token_: ArrayLike,
    context_tokens: ArrayLike,
    memory_usable_share: ArrayLike = 0.9,
) -> F:
    """Largest batch whose weights plus KV cache fit memory: ``⌊(m·M − P·b) / (L·kv)⌋`` (0 if none).

    Examples
    --------
    >>> float(max_batch_fitting_memory(80e9, 8e9, 65536.0, 2048, 0.9))
    476.0
    """
    free = np.asarray(memory_usable_share, float) * np.asarray(
        memory_bytes_per_replica, float
    ) - np.asarray(weight_bytes, float)
    per_seq = np.asarray(context_tokens, float) * np.asarray(kv_bytes_per_token_, float)
    return np.maximum(np.floor(free / per_seq), 0.0)


def prefill_tokens_per_s_per_replica(
    flops_per_s_per_replica: ArrayLike, params_active: ArrayLike, flop_efficiency: ArrayLike
) -> F:
    r"""Prompt tokens per second, compute bound: :math:`\eta_f F G / (2 P_{active})`.

    Examples
    --------
    >>> float(prefill_tokens_per_s_per_replica(1e15, 5e9, 0.5))
    50000.0
    """
    return (
        np.asarray(flop_efficiency, float)
        * np.asarray(flops_per_s_per_replica, float)
        / (2.0 * np.asarray(params_active, float))
    )


def decode_tokens_per_s_per_replica(
    batch: ArrayLike,
    bandwidth_bytes_per_s_per_replica: ArrayLike,
    flops_per_s_per_replica: ArrayLike,
    weight_bytes: ArrayLike,
    params_active: ArrayLike,
    kv_bytes_per_token_: ArrayLike,
    mean_context_tokens: ArrayLike,
    bandwidth_efficiency: ArrayLike,
    flop_efficiency: ArrayLike,
) -> F:
    r"""Generated tokens per second at batch *B*: the lower of the memory and compute roofs.

    .. math:: \min\left(\frac{B\,\eta_{bw} W}{P b + B \bar L\,kv},\; \frac{\eta_f F}{2 P_{active}}\right)

    Examples
    --------
    >>> round(float(decode_tokens_per_s_per_replica(1, 3.35e12, 989e12, 16e9, 8e9, 131072.0, 1000, 1.0, 1.0)), 1)
    207.7
    """
    b = np.asarray(batch, float)
    step_bytes = np.asarray(weight_bytes, float) + b * np.asarray(
        mean_context_tokens, float
    ) * np.asarray(kv_bytes_per_token_, float)
    memory_roof = (
        b
        * np.asarray(bandwidth_efficiency, float)
        * np.asarray(bandwidth_bytes_per_s_per_replica, float)
        / step_bytes
    )
    compute_roof = prefill_tokens_per_s_per_replica(
        flops_per_s_per_replica, params_active, flop_efficiency
    )
    return np.minimum(memory_roof, compute_roof)


def mix_output_tokens_per_s_per_replica(
    input_tokens: ArrayLike, output_tokens: ArrayLike, prefill: ArrayLike, decode: ArrayLike
) -> F:
    r"""Output tokens per second for a stream of requests of *input_tokens* in, *output_tokens* out.

    .. math:: \frac{n_{out}}{n_{in}/\theta_{prefill} + n_{out}/\theta_{decode}}

    A request of no tokens at all (0 in, 0 out) runs at the decode rate, the limit of a request
    without a prompt, rather than 0/0.

    Examples
    --------
    >>> round(float(mix_output_tokens_per_s_per_replica(1000, 1000, 50000.0, 10000.0)), 3)
    8333.333
    """
    n_in, n_out = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    decode_ = np.asarray(decode, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = n_out / (n_in / np.asarray(prefill, float) + n_out / decode_)
    return np.where((n_in == 0) & (n_out == 0), decode_, mix)


def max_batch_at_user_speed(
    output_tokens_per_s_per_user: ArrayLike,
    input_tokens: ArrayLike,
    output_tokens: ArrayLike,
    prefill: ArrayLike,
    bandwidth_bytes_per_s_per_replica: ArrayLike,
    weight_bytes: ArrayLike,
    kv_bytes_per_token_: ArrayLike,
    mean_context_tokens: ArrayLike,
    bandwidth_efficiency: ArrayLike,
) -> F:
    r"""Largest batch at which every request still receives *output_tokens_per_s_per_user*.

    At batch ``B`` a request of ``n_in`` prompt and ``n_out`` generated tokens receives
    ``v(B) = n_out / (B·n_in/θ_pre + n_out·B/θ_dec(B))`` tokens/s, with ``B/θ_dec(B)`` the larger of
    ``(P·b + B·L̄·kv)/(η_bw·W)`` (memory roof) and ``B/θ_pre`` (compute roof, the same FLOP bound as
    prefill).  Both are linear in ``B``, so ``v(B) ≥ v`` solves in closed form:

    .. math::

        B \le \min\left(\frac{n_{out}/v - n_{out} P b/(\eta_{bw} W)}{n_{in}/\theta_{pre} + n_{out} \bar L\,kv/(\eta_{bw} W)},\;
        \frac{n_{out}/v}{(n_{in} + n_{out})/\theta_{pre}}\right)

    floored; below 1 when even a single request is slower than *v*; infinite when ``n_out`` is 0.

    Examples
    --------
    >>> float(max_batch_at_user_speed(20.0, 1000, 1000, 50000.0, 3.35e12, 8e9, 65536.0, 1500, 0.6))
    667.0
    """
    v = np.asarray(output_tokens_per_s_per_user, float)
    n_in, n_out = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    pre = np.asarray(prefill, float)
    bw = np.asarray(bandwidth_efficiency, float) * np.asarray(
        bandwidth_bytes_per_s_per_replica, float
    )
    # A call with no output tokens (n_out = 0, possibly n_in = 0 too) divides 0 by 0 below; such
    # calls need no speed, and the last line gives them an unbounded batch.
    with np.errstate(invalid="ignore", divide="ignore"):
        budget = n_out / v  # seconds a response may take, per request in flight
        memory = (budget - n_out * np.asarray(weight_bytes, float) / bw) / (
            n_in / pre
            + n_out
            * np.asarray(mean_context_tokens, float)
            * np.asarray(kv_bytes_per_token_, float)
            / bw
        )
        compute = budget / ((n_in + n_out) / pre)
        bound = np.floor(np.minimum(memory, compute))
    return np.where(n_out > 0, bound, np.inf)


@dataclass(frozen=True)
class Throughput:
    """Roofline estimate for one replica (arrays broadcast like the inputs)."""

    input_tokens_per_s_per_replica: F
    output_tokens_per_s_per_replica: F
    batch: F
    max_batch_fitting_memory: F
    weight_bytes: float
    kv_bytes_per_token: float
    #: tokens/s each request in flight receives over the input/output mix given (NaN without one)
    output_tokens_per_s_per_user: F | None = None


def estimate(
    architecture_name: str,
    gpu: str,
    precision: Precision = "fp8",
    gpus_per_replica: int = 1,
    context_tokens: ArrayLike = 2048,
    batch: ArrayLike | None = None,
    calibration: ServingCalibration | None = None,
    output_tokens_per_s_per_user: ArrayLike | None = None,
    input_tokens_per_call: ArrayLike | None = None,
    output_tokens_per_call: ArrayLike | None = None,
) -> Throughput:
    """Prefill and decode tokens/s per replica of a catalog architecture on a catalog GPU.

    Parameters
    ----------
    architecture_name, gpu
        Keys of ``architectures.yaml`` and ``gpus.yaml``.
    precision
        ``fp8`` (weights and KV cache 1 byte) or ``bf16`` (2 bytes).
    context_tokens
        Context length a sequence reaches (prompt + output); the mean during decode is taken as
        ``context_tokens`` (callers with a mix use :func:`calibration_ratios`' convention).
    batch
        Serving batch; default the largest that fits memory, capped at the calibration's
        ``max_batch``.
    output_tokens_per_s_per_user
        Speed each request must be generated at: caps the batch (given or default) at
        :func:`max_batch_at_user_speed` for the mix *input_tokens_per_call* /
        *output_tokens_per_call* (both then required).  None: no cap.

    Raises
    ------
    TcpmfError
        When the weights plus the KV cache of a single sequence exceed the replica's usable
        memory (no batch fits): the message names the architecture, GPU, GPUs per replica and
        the memory needed and available; or when even one request alone is generated slower than
        *output_tokens_per_s_per_user* (the message names the fastest speed the set-up gives).

    Examples
    --------
    >>> t = estimate("llama-3.1-8b", "h100-sxm", "fp8", 1, context_tokens=2048)
    >>> int(t.max_batch_fitting_memory)
    476
    """
    cal = calibration or serving_calibration()
    arch = architecture(architecture_name)
    spec = gpu_spec(gpu)
    tflops = spec.fp8_dense_tflops if precision == "fp8" else spec.bf16_dense_tflops
    if tflops is None:
        raise KeyError(f"a precision {gpu} supports: it has no FP8 tensor cores; use bf16")
    b = BYTES_PER_PARAM[precision]
    flops = tflops * 1e12 * gpus_per_replica
    bandwidth = spec.memory_bandwidth_tb_per_s * 1e12 * gpus_per_replica
    weights = arch.params_total * b
    kv = float(kv_bytes_per_token(arch.layers, arch.kv_elements_per_token_per_layer, b))
    fits = max_batch_fitting_memory(
        spec.memory_gb * 1e9 * gpus_per_replica,
        weights,
        kv,
        context_tokens,
        cal.memory_usable_share,
    )
    if (fits < 1).any():
        longest = float(np.max(context_tokens))
        needed = weights + longest * kv
        usable = cal.memory_usable_share * spec.memory_gb * 1e9 * gpus_per_replica
        raise TcpmfError(
            f"{architecture_name} does not fit {gpus_per_replica}x {gpu} in {precision}: its weights plus the KV "
            f"cache of one sequence of {longest:,.0f} tokens need {needed / 1e9:,.1f} GB, the replica has "
            f"{usable / 1e9:,.1f} GB usable ({cal.memory_usable_share:g} of {spec.memory_gb * gpus_per_replica:g} GB); "
            "use more GPUs per replica, a GPU with more memory, fp8 or a shorter context"
        )
    chosen = np.minimum(fits, cal.max_batch) if batch is None else np.asarray(batch, float)
    prefill = prefill_tokens_per_s_per_replica(flops, arch.params_active, cal.flop_efficiency)
    if output_tokens_per_s_per_user is not None:
        if input_tokens_per_call is None or output_tokens_per_call is None:
            raise TypeError(
                "output_tokens_per_s_per_user needs input_tokens_per_call and output_tokens_per_call"
            )
        by_speed = max_batch_at_user_speed(
            output_tokens_per_s_per_user,
            input_tokens_per_call,
            output_tokens_per_call,
            prefill,
            bandwidth,
            weights,
            kv,
            context_tokens,
            cal.bandwidth_efficiency,
        )
        if (by_speed < 1).any():
            alone = _user_speed(
                1.0,
                input_tokens_per_call,
                output_tokens_per_call,
                prefill,
                bandwidth,
                flops,
                weights,
                arch.params_active,
                kv,
                context_tokens,
                cal,
            )
            raise TcpmfError(
                f"{architecture_name} on {gpus_per_replica}x {gpu} in {precision} generates at most "
                f"{float(np.min(alone)):,.1f} output tokens/s for a single request of {float(np.max(input_tokens_per_call)):,.0f} "
                f"prompt and {float(np.max(output_tokens_per_call)):,.0f} output tokens, below the "
                f"{float(np.max(output_tokens_per_s_per_user)):g} tokens/s required per user; use a smaller model, "
                "more GPUs per replica or a faster GPU, or accept a lower speed"
            )
        chosen = np.minimum(chosen, by_speed)
    decode = decode_tokens_per_s_per_replica(
        chosen,
        bandwidth,
        flops,
        weights,
        arch.params_active,
        kv,
        context_tokens,
        cal.bandwidth_efficiency,
        cal.flop_efficiency,
    )
    per_user = (
        None
        if input_tokens_per_call is None or output_tokens_per_call is None
        else mix_output_tokens_per_s_per_replica(
            input_tokens_per_call, output_tokens_per_call, prefill, decode
        )
        / chosen
    )
    return Throughput(
        np.broadcast_to(prefill, np.shape(decode)).astype(float),
        decode,
        chosen,
        fits,
        weights,
        kv,
        per_user,
    )


def _user_speed(
    batch: ArrayLike,
    n_in: ArrayLike,
    n_out: ArrayLike,
    prefill: F,
    bandwidth: float,
    flops: float,
    weights: float,
    params_active: float,
    kv: float,
    context: ArrayLike,
    cal: ServingCalibration,
) -> F:
    decode = decode_tokens_per_s_per_replica(
        batch,
        bandwidth,
        flops,
        weights,
        params_active,
        kv,
        context,
        cal.bandwidth_efficiency,
        cal.flop_efficiency,
    )
    return mix_output_tokens_per_s_per_replica(n_in, n_out, prefill, decode) / np.asarray(
        batch, float
    )


def _predict(
    rows: list[Measurement],
    flop_efficiency: float,
    bandwidth_efficiency: float,
    base: ServingCalibration,
) -> F:
    cal = base.model_copy(
        update={"flop_efficiency": flop_efficiency, "bandwidth_efficiency": bandwidth_efficiency}
    )
    out = []
    for row in rows:  # a handful of published rows; each estimate is itself vectorized
        t = estimate(
            row.architecture,
            row.gpu,
            row.precision,
            row.gpus_per_replica,
            context_tokens=row.input_tokens + row.output_tokens,
            calibration=cal,
        )
        # decode reads, on average, the prompt plus half the output
        decode = decode_tokens_per_s_per_replica(
            t.batch,
            gpu_spec(row.gpu).memory_bandwidth_tb_per_s * 1e12 * row.gpus_per_replica,
            _flops(row),
            t.weight_bytes,
            architecture(row.architecture).params_active,
            t.kv_bytes_per_token,
            row.input_tokens + row.output_tokens / 2,
            bandwidth_efficiency,
            flop_efficiency,
        )
        out.append(
            float(
                mix_output_tokens_per_s_per_replica(
                    row.input_tokens, row.output_tokens, t.input_tokens_per_s_per_replica, decode
                )
            )
        )
    return np.asarray(out)


def _flops(row: Measurement) -> float:
    spec = gpu_spec(row.gpu)
    tflops = spec.fp8_dense_tflops if row.precision == "fp8" else spec.bf16_dense_tflops
    assert tflops is not None
    return tflops * 1e12 * row.gpus_per_replica


def calibration_ratios(calibration: ServingCalibration | None = None) -> F:
    """Estimate ÷ measurement for every published row of the calibration file, in file order.

    Examples
    --------
    >>> r = calibration_ratios()
    >>> bool(((r > 0.5) & (r < 2)).all())
    True
    """
    cal = calibration or serving_calibration()
    measured = np.asarray([m.output_tokens_per_s_per_replica for m in cal.measurements])
    return _predict(cal.measurements, cal.flop_efficiency, cal.bandwidth_efficiency, cal) / measured


def calibrate(calibration: ServingCalibration | None = None) -> tuple[float, float]:
    r"""Fit ``(flop_efficiency, bandwidth_efficiency)`` to the measurements: least squares on
    :math:`\log(\text{estimate}/\text{measured})`, each factor within [0.05, 1].

    Examples
    --------
    >>> eta_f, eta_bw = calibrate()
    >>> 0.05 <= eta_f <= 1 and 0.05 <= eta_bw <= 1
    True
    """
    cal = calibration or serving_calibration()
    measured = np.log([m.output_tokens_per_s_per_replica for m in cal.measurements])

    def residual(x: F) -> F:
        return np.log(_predict(cal.measurements, float(x[0]), float(x[1]), cal)) - measured

    fit = least_squares(residual, x0=[0.5, 0.8], bounds=([0.05, 0.05], [1.0, 1.0]))
    return float(fit.x[0]), float(fit.x[1])
