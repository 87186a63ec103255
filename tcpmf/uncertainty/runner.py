"""Batch runs to disk: a portfolio's Monte Carlo draws as a Parquet dataset that survives a kill.

``tcpmf run PORTFOLIO --samples N --seed S --out DIR`` computes the same chunks as
:func:`tcpmf.uncertainty.batch.monte_carlo` (chunk ``c`` of product ``p`` draws from
``SeedSequence(seed, spawn_key=(p, c))``) and writes each one to its own file::

    DIR/manifest.json                   what was run: spec hash, seed, samples, chunk size, ...
    DIR/chunks/p0000-c000000.parquet    product 0, draws [0, chunk_size)
    DIR/chunks/p0000-c000001.parquet    ...

A chunk is written under a hidden temporary name (``.p0000-c000001.parquet.<pid>.tmp``) and then
renamed, so a chunk file exists only once it is whole.  Running the same command again resumes:
finished chunks are skipped, leftover temporary files are removed, and the final files are the
same bytes an uninterrupted run writes.  A directory that holds a different run (another spec,
seed, sample count, chunk size, sampling, tcpmf version or price catalog) is refused.

Workers (``processes``, ``dask``) compute a chunk and return it encoded as Parquet; only this
process writes files, so a dask cluster needs no shared filesystem.  At most about two chunks per
worker are in flight, so memory grows with the chunk size, never with the number of draws.

Example
-------
>>> out = run("assumptions/portfolios/consumer_stages.yaml", 1_000, seed=1, out="runs/stages")
>>> run_summary(out).columns[:2].tolist()
['product', 'draws']
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tcpmf.core.errors import TcpmfError
from tcpmf.core.extras import import_optional
from tcpmf.core.version import package_version
from tcpmf.core.yamlio import assumptions_dir, display_path
from tcpmf.uncertainty.batch import (
    DEFAULT_CHUNK_SIZE,
    OUTCOME_COLUMNS,
    SUMMARIZED_COLUMNS,
    check_counts,
    chunk_bounds,
    input_columns,
    iter_chunks,
    product_chunk,
    summarize,
)
from tcpmf.uncertainty.portfolio import Analysable, Portfolio, Product, as_portfolio

if sys.platform != "win32":
    import fcntl

__all__ = [
    "EXECUTORS",
    "MANIFEST",
    "RunStatus",
    "read_first_draws",
    "read_manifest",
    "read_run",
    "run",
    "run_status",
    "run_summary",
]

#: Name of the manifest inside a run directory.
MANIFEST = "manifest.json"
#: Folder of the chunk files inside a run directory.
CHUNKS = "chunks"
#: Layout of the run directory; a reader refuses a layout it does not know.
FORMAT = 1
EXECUTORS = ("serial", "processes", "dask")
#: Manifest entries that must match for a directory to be resumed, with their names in messages.
RESUME_KEYS = {
    "format": "run directory format",
    "tcpmf_version": "tcpmf version",
    "spec_hash": "portfolio spec",
    "catalog_hash": "price catalog",
    "code_hash": "tcpmf code",
    "libraries": "numerical libraries",
    "seed": "seed",
    "samples": "samples",
    "chunk_size": "chunk size",
    "sampling": "sampling",
}
#: Seconds to wait for a dask scheduler to answer and to have a worker.
DASK_TIMEOUT_S = 30

Progress = Callable[[int, int], None]
"""``progress(chunks_done, chunks_total)``: called once when a run starts (chunks already on disk
count as done) and after each chunk written."""


# --- the manifest ----------------------------------------------------------------------------


def _version() -> str:
    return package_version()


@cache
def code_hash() -> str:
    """SHA-256 of tcpmf's own source files: a run resumed after the code changed (an upgrade, a
    ``git pull``) would mix chunks computed two ways, whatever the version number says."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(
            path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose arithmetic decides the draws (quantile functions, Latin
    hypercubes, random streams) and the files."""
    from importlib.metadata import version

    return {name: version(name) for name in ("numpy", "scipy", "pandas", "pyarrow")}


def catalog_hash(directory: Path | None = None) -> str:
    """SHA-256 of the price catalog files (``assumptions/catalog/*.yaml``).

    A product that names a catalog model takes its token prices from there, so the catalog
    decides draws as much as the portfolio spec does.
    """
    root = (directory or assumptions_dir()) / "catalog"
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _horizon(product: Product) -> int | None:
    value = getattr(product.scenario, "horizon_months", None)
    return int(value) if isinstance(value, int) else None


def build_manifest(
    portfolio: Portfolio, samples: int, seed: int, chunk_size: int
) -> dict[str, Any]:
    """What a run is: everything that decides its draws, and what its files hold."""
    chunks = len(chunk_bounds(samples, chunk_size))
    return {
        "format": FORMAT,
        "tcpmf_version": _version(),
        "spec_hash": portfolio.spec_hash(),
        "catalog_hash": catalog_hash(),
        "code_hash": code_hash(),
        "libraries": library_versions(),
        "seed": seed,
        "samples": samples,
        "chunk_size": chunk_size,
        "sampling": portfolio.sampling,
        "portfolio": portfolio.name,
        # absolute, so that the resume command works from any folder
        "portfolio_file": str(Path(portfolio.file).resolve())
        if Path(portfolio.file).is_file()
        else portfolio.file,
        "products": portfolio.names,
        "horizon_months": [_horizon(p) for p in portfolio.products],
        "chunks_per_product": chunks,
        "chunks": chunks * len(portfolio.products),
        "chunk_files": f"{CHUNKS}/p{{product:04d}}-c{{chunk:06d}}.parquet",
        "input_columns": input_columns(portfolio),
        "outcome_columns": list(OUTCOME_COLUMNS),
        "spec": portfolio.spec(),
    }


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of the run in *out*; a clear :class:`TcpmfError` if there is none."""
    out = Path(out)
    path = out / MANIFEST
    if not path.is_file():
        what = "does not exist" if not out.exists() else f"holds no tcpmf run (no {MANIFEST})"
        raise TcpmfError(f"{display_path(out)} {what}; give the --out folder of a `tcpmf run`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TcpmfError(
            f"{display_path(path)} cannot be read ({exc}); delete {display_path(out)} and run again"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise TcpmfError(
            f"{display_path(path)} has run directory format {found!r}; this tcpmf reads format {FORMAT}"
        )
    return manifest


def write_atomic(path: Path, data: bytes) -> None:
    """Write *data* to a hidden temporary file beside *path*, flush it to disk, rename it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _spec_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two JSON trees differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            at = f"{prefix}.{key}" if prefix else str(key)
            out += (
                _spec_paths(old.get(key), new.get(key), at) if key in old and key in new else [at]
            )
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p for i, (a, b) in enumerate(zip(old, new)) for p in _spec_paths(a, b, f"{prefix}.{i}")
        ]
    return [] if old == new else [prefix or "(all)"]


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines = []
    for key, label in RESUME_KEYS.items():
        if old.get(key) == new.get(key):
            continue
        if key == "spec_hash":
            paths = _spec_paths(old.get("spec"), new.get("spec"))
            where = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
            lines.append(
                f"the portfolio spec differs (hash {str(old.get(key))[:12]} → {str(new[key])[:12]}"
                + (f"; changed: {where})" if paths else ")")
            )
        elif key == "catalog_hash":
            lines.append(
                "the price catalog (assumptions/catalog) differs from the one the run started with"
            )
        elif key == "code_hash":
            lines.append(
                "tcpmf's code differs from the one the run started with (same version number or not)"
            )
        else:
            lines.append(f"{label} was {old.get(key)!r}, now {new.get(key)!r}")
    return lines


def _prepare(out: Path, manifest: dict[str, Any]) -> None:
    """Start a run in *out*, or check that *out* holds this very run; remove stale temporary files."""
    chunks = out / CHUNKS
    if (out / MANIFEST).is_file():
        old = read_manifest(out)
        differences = _differences(old, manifest)
        if differences:
            raise TcpmfError(
                f"{display_path(out)} holds a different run, so it cannot be resumed: "
                + "; ".join(differences)
                + f". Write to a new --out folder, or delete {display_path(out)} to start this run over."
            )
    else:
        stray = (
            [p for p in out.iterdir() if not (_is_temporary(p) or p.name in (".lock", CHUNKS))]
            if out.is_dir()
            else []
        )
        if chunks.is_dir():
            stray += [p for p in chunks.iterdir() if not _is_temporary(p)]
        if stray:
            raise TcpmfError(
                f"{display_path(out)} is not empty and holds no tcpmf run (no {MANIFEST}; found {stray[0].name}); "
                "give a new or empty --out folder"
            )
    chunks.mkdir(parents=True, exist_ok=True)
    for folder in (out, chunks):
        for path in folder.iterdir():
            if _is_temporary(path):
                path.unlink(missing_ok=True)
    if not (out / MANIFEST).is_file():
        write_atomic(
            out / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        )


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on *out* (POSIX), so two runs never write to one folder at once.
    The operating system drops the lock when the process dies, even by SIGKILL (workers do not
    keep it: see :func:`_init_worker`)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TcpmfError(
            f"cannot create the output folder {display_path(out)} ({exc.strerror})"
        ) from None
    if sys.platform == "win32":  # pragma: no cover
        yield
        return
    with open(out / ".lock", "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TcpmfError(
                f"another tcpmf run is writing to {display_path(out)}; wait for it or stop it first"
            ) from None
        _LOCK_FDS.add(fh.fileno())
        try:
            yield
        finally:
            _LOCK_FDS.discard(fh.fileno())
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


#: File descriptors of the run locks this process holds.  A forked worker shares the lock (flock
#: belongs to the open file, not the process), so it closes its copies at once: only the process
#: that writes the files holds the lock, and it goes with that process.
_LOCK_FDS: set[int] = set()


# --- computing chunks ------------------------------------------------------------------------


def chunk_name(product: int, chunk: int) -> str:
    """File name of chunk *chunk* of product *product* (inside ``DIR/chunks``)."""
    return f"p{product:04d}-c{chunk:06d}.parquet"


def encode_chunk(
    portfolio: Portfolio, product: int, chunk: int, samples: int, seed: int, chunk_size: int
) -> bytes:
    """Draw and evaluate one chunk and encode it as a Parquet file (what workers return)."""
    try:
        frame = product_chunk(portfolio, product, chunk, samples, seed, chunk_size)
    except TcpmfError as exc:  # re-raised as a plain TcpmfError: it pickles across processes
        raise TcpmfError(f"{portfolio.names[product]}, chunk {chunk}: {exc}") from None
    # one thread: a worker is one of several processes already (a pool's threads cost more here)
    table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    # Dictionary encoding pays for names only; on 50,000 distinct floats a column it costs 3x the
    # write time and makes the file larger.
    names = [
        f.name
        for f in table.schema
        if pa.types.is_dictionary(f.type)
        or pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
    ]
    # Float columns split by byte (the exponents side by side) and LZ4: files as small as zstd
    # makes them of the plain values, written in 40% less time (benchmarks/bench_same_work.py).
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    sink = io.BytesIO()
    pq.write_table(
        table, sink, compression="lz4", use_dictionary=names, use_byte_stream_split=floats
    )
    return sink.getvalue()


Task = tuple[int, int]
Done = tuple[int, int, bytes]


def _serial(
    portfolio: Portfolio, todo: Sequence[Task], args: tuple[int, int, int]
) -> Iterator[Done]:
    for p, c in todo:
        yield p, c, encode_chunk(portfolio, p, c, *args)


_WORKER_PORTFOLIO: Portfolio | None = None


def _init_worker(portfolio: Portfolio, parent: int) -> None:
    """Process-pool initializer: receive the portfolio once, leave Ctrl-C to the parent, let go of
    the run lock a fork copied, and end with the parent (a killed ``tcpmf run`` leaves no worker
    behind, computing for nobody)."""
    global _WORKER_PORTFOLIO  # noqa: PLW0603 - one portfolio per worker process, set once here
    _WORKER_PORTFOLIO = portfolio
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's stop-between-chunks handler
    for fd in list(_LOCK_FDS):
        with suppress(OSError):
            os.close(fd)
    _LOCK_FDS.clear()
    if sys.platform == "linux":  # the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG)
        import ctypes

        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)


def _worker_chunk(product: int, chunk: int, samples: int, seed: int, chunk_size: int) -> bytes:
    assert _WORKER_PORTFOLIO is not None, "worker started without its portfolio"
    return encode_chunk(_WORKER_PORTFOLIO, product, chunk, samples, seed, chunk_size)


def _start_method() -> str:
    """``fork`` where it is safe, else ``spawn``.

    A forked worker starts in milliseconds with tcpmf, scipy and the price catalog already loaded
    (a spawned one re-imports them: about a second each, which at 10⁶ draws is a third of the run).
    Fork copies only the calling thread, so it is used only on Linux and when this process runs
    no other Python thread (a notebook kernel, a progress-bar thread) whose locks a child could
    inherit held.  Arrow and OpenBLAS reset their own thread pools in a forked child.
    """
    import threading

    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


def _processes(
    portfolio: Portfolio, todo: Sequence[Task], args: tuple[int, int, int], workers: int | None
) -> Iterator[Done]:
    import multiprocessing

    n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    context = multiprocessing.get_context(_start_method())
    tasks = iter(todo)
    pending: dict[Future[bytes], Task] = {}
    with ProcessPoolExecutor(
        max_workers=n,
        mp_context=context,
        initializer=_init_worker,
        initargs=(portfolio, os.getpid()),
    ) as pool:
        try:
            while True:
                for p, c in tasks:
                    pending[pool.submit(_worker_chunk, p, c, *args)] = (p, c)
                    if len(pending) >= 2 * n:
                        break
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=pending.__getitem__):
                    p, c = pending.pop(future)
                    try:
                        data = future.result()
                    except BrokenProcessPool:
                        raise TcpmfError(
                            "a worker process died (out of memory, or killed?); the chunks written so far are kept: "
                            "rerun the same command to resume, with a smaller --chunk-size or fewer --workers"
                        ) from None
                    yield p, c, data
        finally:
            for future in pending:
                future.cancel()


def _fingerprint() -> tuple[str, str, str, str]:
    """What a dask worker would compute with: its tcpmf version and code, price catalog and
    numerical libraries."""
    return _version(), code_hash(), catalog_hash(), json.dumps(library_versions(), sort_keys=True)


def _dask_client(stack: ExitStack, workers: int | None, scheduler: str | None) -> Any:
    """A client of a local cluster of *workers* processes (bound to 127.0.0.1), or of *scheduler*,
    with at least one worker; closed with *stack*."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        )
        client = stack.enter_context(Client(cluster))
    else:
        try:
            client = stack.enter_context(Client(scheduler, timeout=DASK_TIMEOUT_S))
        except (OSError, TimeoutError) as exc:
            raise TcpmfError(f"cannot reach the dask scheduler at {scheduler} ({exc})") from None
    try:
        client.wait_for_workers(1, timeout=DASK_TIMEOUT_S)
    except TimeoutError:
        where = f"the dask scheduler at {scheduler}" if scheduler else "the local dask cluster"
        raise TcpmfError(f"{where} has no workers (waited {DASK_TIMEOUT_S} s)") from None
    return client


def _check_same_workers(client: Any) -> None:
    """Refuse workers that would compute with another tcpmf, catalog or numerical libraries."""
    mine = _fingerprint()
    others = {addr: fp for addr, fp in client.run(_fingerprint).items() if tuple(fp) != mine}
    if others:
        addr, theirs = next(iter(others.items()))
        what = [
            label
            for label, a, b in zip(
                ("tcpmf version", "tcpmf code", "price catalog", "numerical libraries"),
                theirs,
                mine,
            )
            if a != b
        ]
        raise TcpmfError(
            f"{len(others)} dask worker(s) compute with another {', '.join(what)} (e.g. {addr}: tcpmf {theirs[0]}, "
            f"libraries {theirs[3]}; here: tcpmf {mine[0]}, libraries {mine[3]}); install the same tcpmf and "
            "libraries on every worker"
        )


def _dask(
    portfolio: Portfolio,
    todo: Sequence[Task],
    args: tuple[int, int, int],
    workers: int | None,
    scheduler: str | None,
) -> Iterator[Done]:
    from concurrent.futures import CancelledError

    import_optional("distributed", "the dask executor")
    from distributed import KilledWorker, as_completed
    from distributed.comm import CommClosedError

    with ExitStack() as stack:
        client = _dask_client(stack, workers, scheduler)
        _check_same_workers(client)
        window = 2 * max(1, sum(client.nthreads().values()))
        shared = client.scatter(portfolio)  # sent once; tasks refer to it by key
        tasks = iter(todo)
        keys: dict[str, Task] = {}
        queue = as_completed()

        def submit() -> bool:
            for p, c in tasks:
                future = client.submit(encode_chunk, shared, p, c, *args, pure=False)
                keys[future.key] = (p, c)
                queue.add(future)
                return True
            return False

        for _ in range(window):
            if not submit():
                break
        try:
            for future in queue:
                p, c = keys.pop(future.key)
                try:
                    data = future.result()
                except (
                    KilledWorker,
                    CommClosedError,
                    CancelledError,
                    OSError,
                    TimeoutError,
                ) as exc:  # the cluster's failure
                    raise TcpmfError(
                        f"the dask cluster failed on {portfolio.names[p]}, chunk {c} ({type(exc).__name__}: {exc}); "
                        "the chunks written so far are kept: rerun the same command to resume"
                    ) from None
                future.release()
                submit()
                yield p, c, data
        finally:
            client.cancel(list(queue.futures))


# --- running ---------------------------------------------------------------------------------


def _check_arguments(
    samples: Any,
    seed: Any,
    chunk_size: Any,
    executor: str,
    scheduler: str | None,
    workers: int | None,
) -> None:
    check_counts(samples, seed, chunk_size)
    if executor not in EXECUTORS:
        raise TcpmfError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        raise TcpmfError(
            f"a scheduler address works with the dask executor only (--executor dask), not {executor}"
        )
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise TcpmfError(f"workers must be a whole number of at least 1 (got {workers!r})")
        if executor == "serial":
            raise TcpmfError(
                "workers apply to the processes and dask executors; the serial executor uses this process"
            )
        if scheduler is not None:
            raise TcpmfError(
                "workers size a local cluster; with a scheduler address the cluster's own workers are used"
            )


def run(
    subject: Analysable,
    samples: int,
    seed: int,
    out: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """Run *samples* draws of every product of *subject* into the Parquet dataset *out*.

    Parameters
    ----------
    subject
        What to analyse (:data:`~tcpmf.uncertainty.portfolio.Analysable`): a :class:`Portfolio`,
        a product, a scenario whose file holds distributions, or a path to either kind of file.
    samples
        Draws per product.
    seed
        Same seed, same numbers: the files equal :func:`tcpmf.uncertainty.batch.monte_carlo`'s chunks for the
        same chunk size, whatever the executor and the number of workers.
    out
        The run directory.  If it holds this run already, the run resumes: chunks on disk are kept.
    chunk_size
        Draws per chunk file; memory use grows with it (about 2 chunks per worker in flight).
    executor
        ``"serial"`` (this process), ``"processes"`` (a local process pool, default one worker per
        CPU) or ``"dask"`` (a local ``dask.distributed`` cluster of *workers* processes, default 2,
        or the cluster of *scheduler*).
    scheduler
        Address of a running dask scheduler (``tcp://host:8786``); its workers need the same tcpmf.
    workers
        Worker processes for ``processes`` and a local ``dask`` cluster.
    progress
        ``progress(chunks_done, chunks_total)``, called at the start and after each chunk written.

    Returns
    -------
    pathlib.Path
        *out*; read it with :func:`read_run` or :func:`run_summary`.
    """
    _check_arguments(samples, seed, chunk_size, executor, scheduler, workers)
    samples, seed, chunk_size = (
        int(samples),
        int(seed),
        int(chunk_size),
    )  # numpy integers are not JSON
    portfolio = as_portfolio(subject)
    out = Path(out)
    manifest = build_manifest(portfolio, samples, seed, chunk_size)
    fresh = not out.exists()
    with _locked(out):
        try:
            _prepare(out, manifest)
        except TcpmfError:
            if not (
                out / MANIFEST
            ).is_file():  # refused a folder that holds no run: leave no trace in it
                (out / ".lock").unlink(missing_ok=True)
                if fresh:
                    shutil.rmtree(out, ignore_errors=True)
            raise
        chunks = out / CHUNKS
        bounds = chunk_bounds(samples, chunk_size)
        todo = [
            (p, c)
            for p, c in iter_chunks(portfolio, samples, chunk_size)
            if not _intact(chunks / chunk_name(p, c), bounds[c][1] - bounds[c][0])
        ]
        total = manifest["chunks"]
        done = total - len(todo)
        if progress is not None:
            progress(done, total)
        if not todo:
            return out
        args = (samples, seed, chunk_size)
        if executor == "serial":
            results = _serial(portfolio, todo, args)
        elif executor == "processes":
            results = _processes(portfolio, todo, args, workers)
        else:
            results = _dask(portfolio, todo, args, workers, scheduler)
        try:
            for p, c, data in results:
                try:
                    write_atomic(chunks / chunk_name(p, c), data)
                except OSError as exc:
                    raise TcpmfError(
                        f"cannot write {display_path(chunks / chunk_name(p, c))} ({exc.strerror}); the chunks written so "
                        "far are kept: free some space and rerun the same command to resume"
                    ) from None
                done += 1
                if progress is not None:
                    progress(done, total)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    return out


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStatus:
    """How far the run in a directory got."""

    manifest: dict[str, Any]
    done: int
    total: int
    #: chunks on disk per product
    done_per_product: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return self.done == self.total

    def describe(self) -> str:
        """E.g. ``"12 of 50 chunks written"``."""
        return f"{self.done} of {self.total} chunks written"

    def resume_command(self, out: str | Path) -> str:
        """The ``tcpmf run`` command that resumes the run in *out*, quoted for a POSIX shell."""
        m = self.manifest
        return shlex.join(
            [
                "tcpmf",
                "run",
                str(m.get("portfolio_file", "PORTFOLIO")),
                "--samples",
                str(m["samples"]),
                "--seed",
                str(m["seed"]),
                "--chunk-size",
                str(m["chunk_size"]),
                "--out",
                display_path(Path(out)),
            ]
        )


def _files(out: Path, manifest: Mapping[str, Any]) -> list[list[Path]]:
    """The chunk files on disk, per product, in draw order."""
    chunks = out / CHUNKS
    return [
        [
            chunks / chunk_name(p, c)
            for c in range(manifest["chunks_per_product"])
            if (chunks / chunk_name(p, c)).is_file()
        ]
        for p in range(len(manifest["products"]))
    ]


def run_status(out: str | Path) -> RunStatus:
    """The manifest of the run in *out* and how many of its chunks are on disk."""
    manifest = read_manifest(out)
    per_product = tuple(len(files) for files in _files(Path(out), manifest))
    return RunStatus(manifest, sum(per_product), manifest["chunks"], per_product)


def complete_or_partial(out: Path, partial: bool) -> RunStatus:
    status = run_status(out)
    if not status.complete and not partial:
        raise TcpmfError(
            f"the run in {display_path(out)} is incomplete: {status.describe()}. "
            f"Resume it with `{status.resume_command(out)}`, or ask for the partial results explicitly "
            "(`tcpmf report --partial`, partial=True)"
        )
    if status.done == 0:
        raise TcpmfError(f"the run in {display_path(out)} has no chunks written yet")
    return status


def _product_indices(
    names: Sequence[str], products: Sequence[int | str] | None, out: Path
) -> list[int]:
    if products is None:
        return list(range(len(names)))
    if isinstance(products, (str, int)):
        products = [products]
    wanted = []
    for item in products:
        if isinstance(item, str) and item in names:
            wanted.append(names.index(item))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(names):
            wanted.append(item)
        else:
            raise TcpmfError(
                f"no product {item!r} in the run in {display_path(out)}; give names or indices 0-{len(names) - 1} "
                f"of: {', '.join(names)}"
            )
    return wanted


def read_run(
    out: str | Path,
    columns: Sequence[str] | None = None,
    *,
    products: Sequence[int | str] | None = None,
    partial: bool = False,
) -> pd.DataFrame:
    """The draws of the run in *out*, in (product, draw) order.

    Equal to ``batch.monte_carlo(portfolio, samples, seed, chunk_size=...)`` for the run's
    arguments.  Only *columns* (default all; ``product`` and ``draw`` are always included) are
    read, and only the files of *products* (names or indices, default all).  An incomplete run
    raises :class:`TcpmfError` unless *partial* is true; a damaged chunk file names itself.
    """
    out = Path(out)
    status = complete_or_partial(out, partial)
    names = status.manifest["products"]
    wanted = _product_indices(names, products, out)
    files = _files(out, status.manifest)
    known = [
        "product",
        "draw",
        *status.manifest["input_columns"],
        *status.manifest["outcome_columns"],
    ]
    if isinstance(columns, str):
        columns = [columns]
    if columns is not None:
        columns = ["product", "draw", *(c for c in columns if c not in ("product", "draw"))]
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise TcpmfError(
                f"no column {unknown[0]!r} in the run in {display_path(out)}; columns: {', '.join(known)}"
            )
    paths = [path for p in wanted for path in files[p]]
    if not paths:
        return pd.DataFrame({c: [] for c in (columns or known)})
    tables = [_read_chunk(path, columns) for path in paths]
    frame = pa.concat_tables(tables).to_pandas()
    if "product" in frame:
        column = frame["product"]
        if isinstance(
            column.dtype, pd.CategoricalDtype
        ):  # as written: recode the few categories, not every row
            frame["product"] = column.cat.set_categories(names)
        else:
            frame["product"] = pd.Categorical(column.astype(str), categories=names)
    return frame


def _intact(path: Path, rows: int) -> bool:
    """Whether the chunk file *path* exists and its Parquet footer says it holds *rows* draws.  A
    file damaged after it was written (writes themselves are atomic) is removed, to be computed
    again."""
    if not path.is_file():
        return False
    try:
        if pq.read_metadata(path).num_rows == rows:
            return True
    except (OSError, pa.ArrowException):
        pass
    print(f"warning: {display_path(path)} is damaged; computing that chunk again", file=sys.stderr)
    path.unlink(missing_ok=True)
    return False


def _read_chunk(path: Path, columns: Sequence[str] | None) -> pa.Table:
    try:
        return pq.read_table(path, columns=list(columns) if columns is not None else None)
    except (OSError, pa.ArrowException) as exc:
        raise TcpmfError(
            f"the chunk file {display_path(path)} cannot be read ({str(exc).splitlines()[0]}); rerun the same "
            "`tcpmf run` command: it computes that chunk again and keeps the others"
        ) from None


def run_summary(out: str | Path, *, partial: bool = False) -> pd.DataFrame:
    """The per-product table of :func:`tcpmf.uncertainty.batch.summarize` for the run in *out*.

    Reads only the five columns it needs, one product at a time, so memory holds one product's
    outcomes.  An incomplete run raises :class:`TcpmfError` unless *partial* is true.
    """
    status = complete_or_partial(Path(out), partial)
    tables = [
        summarize(read_run(out, SUMMARIZED_COLUMNS, products=[p], partial=partial))
        for p, n in enumerate(status.done_per_product)
        if n
    ]
    return pd.concat(tables, ignore_index=True)


def read_first_draws(
    out: str | Path, draws_per_product: int, *, partial: bool = False
) -> pd.DataFrame:
    """The first *draws_per_product* draws of each product of the run in *out*, every column.

    Reads chunk files in draw order and stops at the first that reaches the count, so a sample of a
    run of millions of draws costs one chunk per product.
    """
    if (
        isinstance(draws_per_product, bool)
        or not isinstance(draws_per_product, int)
        or draws_per_product < 0
    ):
        raise TcpmfError(
            f"draws per product must be a whole number of at least 0 (got {draws_per_product!r})"
        )
    out = Path(out)
    status = complete_or_partial(out, partial)
    names = status.manifest["products"]
    tables = []
    for files in _files(out, status.manifest):
        rows = 0
        for path in files:
            if rows >= draws_per_product:
                break
            table = _read_chunk(path, None)
            tables.append(table.slice(0, draws_per_product - rows))
            rows += min(table.num_rows, draws_per_product - rows)
    known = [
        "product",
        "draw",
        *status.manifest["input_columns"],
        *status.manifest["outcome_columns"],
    ]
    frame = pa.concat_tables(tables).to_pandas() if tables else pd.DataFrame({c: [] for c in known})
    frame["product"] = pd.Categorical(frame["product"].astype(str), categories=names)
    return frame.reset_index(drop=True)
