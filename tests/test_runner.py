"""Batch runs to disk (tcpmf.uncertainty.runner): the same files whatever the executor, resume after SIGKILL,
refusal to mix runs, and leftover temporary files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_support import (
    child_env,
    chunk_names,
    lower_priority,
    portfolio_data,
    snapshot,
    tcpmf_command,
    temporaries,
    wait_until,
    write_portfolio,
)
from pandas.testing import assert_frame_equal

import tcpmf
from tcpmf.core.errors import TcpmfError
from tcpmf.uncertainty import runner
from tcpmf.uncertainty.batch import chunk_seed, input_columns, product_chunk
from tcpmf.uncertainty.portfolio import load_portfolio
from tcpmf.uncertainty.runner import read_manifest, read_run, run, run_status, run_summary

NUMERIC_INPUTS = [
    "usage.sessions_per_day",
    "revenue.subscription.paid_share",
    "revenue.ads.rpm_usd",
    "retention.r1",
]


@pytest.fixture
def portfolio_file(tmp_path: Path) -> Path:
    return write_portfolio(tmp_path / "two.yaml")


def _frames(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / "chunks" / name) for name in chunk_names(out)}


def _assert_same_files(out: Path, reference: Path) -> None:
    """The same chunk file names, and each file holds the same frame."""
    assert chunk_names(out) == chunk_names(reference)
    for name in chunk_names(reference):
        assert_frame_equal(
            pd.read_parquet(out / "chunks" / name),
            pd.read_parquet(reference / "chunks" / name),
            obj=f"{out.name}/{name}",
        )


def _pairs(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(frame["product"].astype(str), frame["draw"].astype(int)))


# --- one seed, one set of files, whatever computes them --------------------------------------------


def test_serial_processes_and_dask_write_identical_parquet(
    tmp_path: Path, portfolio_file: Path
) -> None:
    samples, seed, size = 30, 11, 8  # 4 chunks per product, the last one short (6 draws)
    portfolio = load_portfolio(portfolio_file)
    outs = {
        (executor, workers): run(
            portfolio,
            samples,
            seed,
            tmp_path / f"{executor}-{workers}",
            chunk_size=size,
            executor=executor,
            workers=workers,
        )
        for executor, workers in (("serial", None), ("processes", 1), ("processes", 2), ("dask", 2))
    }
    reference = outs["serial", None]
    assert chunk_names(reference) == [
        f"p{p:04d}-c{c:06d}.parquet" for p in range(2) for c in range(4)
    ]
    for out in outs.values():
        _assert_same_files(out, reference)
        assert read_manifest(out) == read_manifest(reference)  # the executor is not part of the run
        assert temporaries(out) == []

    frames = _frames(reference)
    assert [len(f) for f in frames.values()] == [8, 8, 8, 6] * 2
    draws = read_run(outs["dask", 2])
    assert_frame_equal(draws, tcpmf.monte_carlo(portfolio, samples, seed, chunk_size=size))
    assert len(_pairs(draws)) == len(draws) == samples * 2
    # each file is its own chunk, drawn from its own stream
    assert_frame_equal(
        frames["p0001-c000002.parquet"].drop(columns="product"),
        product_chunk(portfolio, 1, 2, samples, seed, size).drop(columns="product"),
        check_dtype=False,
    )


def test_chunk_streams_are_the_spawned_children_of_the_seed() -> None:
    children = np.random.SeedSequence(5).spawn(3)[2].spawn(4)
    for c, child in enumerate(children):
        assert (chunk_seed(5, 2, c).generate_state(4) == child.generate_state(4)).all()
    assert (chunk_seed(5, 2, 0).generate_state(4) != chunk_seed(5, 2, 1).generate_state(4)).any()


def test_another_seed_draws_other_numbers_in_the_same_layout(
    tmp_path: Path, portfolio_file: Path
) -> None:
    a = run(portfolio_file, 20, 1, tmp_path / "a", chunk_size=10)
    b = run(portfolio_file, 20, 2, tmp_path / "b", chunk_size=10)
    assert chunk_names(a) == chunk_names(b)
    for (name, fa), fb in zip(_frames(a).items(), _frames(b).values()):
        assert list(fa.columns) == list(fb.columns) and (fa.dtypes == fb.dtypes).all()
        assert fa["draw"].tolist() == fb["draw"].tolist()
        for key in NUMERIC_INPUTS:
            drawn_a, drawn_b = fa[key].dropna(), fb[key].dropna()
            if (
                drawn_a.nunique() > 1
            ):  # a key this product draws (else its nominal value in every row)
                assert set(drawn_a).isdisjoint(drawn_b), (
                    f"{name}: {key} drew the same values with seeds 1 and 2"
                )


def test_a_run_to_disk_reads_back_as_monte_carlo_with_its_manifest(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = run(portfolio_file, 12, 3, tmp_path / "run", chunk_size=5)
    portfolio = load_portfolio(portfolio_file)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["spec_hash"] == portfolio.spec_hash()
    assert manifest["tcpmf_version"] == tcpmf.__version__
    assert (manifest["seed"], manifest["samples"], manifest["chunk_size"]) == (3, 12, 5)
    assert manifest["products"] == ["Writer", "Answers"]
    assert (manifest["chunks_per_product"], manifest["chunks"]) == (3, 6)
    assert manifest["input_columns"] == input_columns(portfolio)
    status = run_status(out)
    assert status.complete and status.done_per_product == (3, 3)
    expected = tcpmf.monte_carlo(portfolio, 12, 3, chunk_size=5)
    assert_frame_equal(read_run(out), expected)
    assert_frame_equal(run_summary(out), tcpmf.summarize(expected))
    # reading some columns of one product
    # reading some columns of one product (by index or name): product and draw always come along
    some = read_run(out, ["payback_month"], products=[1])
    assert_frame_equal(
        some,
        expected.loc[
            expected["product"] == "Answers", ["product", "draw", "payback_month"]
        ].reset_index(drop=True),
    )
    assert_frame_equal(read_run(out, "payback_month", products="Answers"), some)
    for bad in ([2], [-1], ["Nobody"]):
        with pytest.raises(TcpmfError, match="no product"):
            read_run(out, products=bad)
    with pytest.raises(TcpmfError, match="no column 'nope'"):
        read_run(out, ["nope"])
    # a second call finds every chunk written and computes nothing
    before = snapshot(out)
    calls: list[tuple[int, int]] = []
    run(
        portfolio_file,
        12,
        3,
        out,
        chunk_size=5,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(6, 6)] and snapshot(out) == before


# --- SIGKILL midway, then resume -------------------------------------------------------------------


def test_sigkill_midway_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, portfolio_file: Path
) -> None:
    samples, seed, size = (
        60,
        7,
        1,
    )  # 120 chunk files of one draw: about a second, so a kill lands midway
    total = 2 * samples
    out = tmp_path / "killed"
    command = tcpmf_command(
        "run",
        portfolio_file,
        "--samples",
        samples,
        "--seed",
        seed,
        "--chunk-size",
        size,
        "--out",
        out,
    )
    chunks = out / "chunks"

    log = tmp_path / "killed.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=child_env(), stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        wait_until(lambda: chunks.is_dir() or proc.poll() is not None, 60, "the run to start")
        lower_priority(
            proc.pid
        )  # from here on this test polls in between its chunks, even on a busy machine
        wait_until(
            lambda: len(chunk_names(out)) >= 2 or proc.poll() is not None,
            60,
            "the first chunk files",
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (
        f"the run ended before it was killed: {log.read_text()}"
    )

    written = chunk_names(out)
    assert 2 <= len(written) < total, "the kill was meant to land midway"
    status = run_status(out)
    assert not status.complete and status.done == len(written)  # a temporary file never counts
    partial = read_run(out, partial=True)
    assert len(partial) == len(written) * size and len(_pairs(partial)) == len(partial)
    with pytest.raises(TcpmfError, match="incomplete"):
        read_run(out)

    resumed = subprocess.run(
        command,
        check=False,
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"of {total} chunks already written" in resumed.stderr
    assert temporaries(out) == []
    assert len(chunk_names(out)) == total

    reference = run(portfolio_file, samples, seed, tmp_path / "uninterrupted", chunk_size=size)
    final = read_run(out)
    assert_frame_equal(final, read_run(reference))
    assert len(_pairs(final)) == len(final) == total  # no draw lost or duplicated
    for name in chunk_names(reference):  # byte for byte, as the runner promises
        assert (chunks / name).read_bytes() == (reference / "chunks" / name).read_bytes(), name


def _processes_of(out: Path) -> list[int]:
    """Live processes whose command line names *out* (a forked worker has its parent's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(out).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killing_a_processes_run_leaves_no_worker_and_no_lock_behind(
    tmp_path: Path, portfolio_file: Path, how: int
) -> None:
    """Its workers let go of the run lock and end with the run, so the rerun resumes at once."""
    samples, seed, size = 40, 3, 1
    out = tmp_path / "killed"
    command = tcpmf_command(
        "run",
        portfolio_file,
        "--samples",
        samples,
        "--seed",
        seed,
        "--chunk-size",
        size,
        "--out",
        out,
        "--executor",
        "processes",
        "--workers",
        2,
    )
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_until(
            lambda: (out / "chunks").is_dir() or proc.poll() is not None, 60, "the run to start"
        )
        lower_priority(proc.pid)
        wait_until(
            lambda: len(chunk_names(out)) >= 2 or proc.poll() is not None,
            60,
            "the first chunk files",
        )
        os.kill(proc.pid, how)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert len(chunk_names(out)) < 2 * samples, "the kill was meant to land midway"
    if how == signal.SIGTERM:  # stopped between chunks, like Ctrl-C
        assert (
            proc.returncode == 143
            and b"terminated: " in stderr
            and b"rerun the same command" in stderr
        )
    else:
        assert proc.returncode == -signal.SIGKILL
    wait_until(
        lambda: _processes_of(out) == [], 20, "the workers to end with their run", interval=0.05
    )
    resumed = subprocess.run(
        command,
        check=False,
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    reference = run(portfolio_file, samples, seed, tmp_path / "uninterrupted", chunk_size=size)
    assert_frame_equal(read_run(out), read_run(reference))


def test_ctrl_c_stops_the_run_with_exit_130_and_says_how_far_it_got(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = tmp_path / "interrupted"
    command = tcpmf_command(
        "run", portfolio_file, "--samples", 20_000, "--seed", 1, "--chunk-size", 1, "--out", out
    )
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (out / "chunks").is_dir() or proc.poll() is not None, 60, "the run to start"
        )
        lower_priority(proc.pid)
        wait_until(
            lambda: len(chunk_names(out)) >= 2 or proc.poll() is not None,
            60,
            "the first chunk files",
        )
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == 130, stderr
    status = run_status(out)
    assert 2 <= status.done < status.total
    assert f"interrupted: {status.describe()}; rerun the same command to resume" in stderr
    assert "Traceback" not in stderr


# A run that hangs right before renaming its K-th chunk into place (K from argv[1]): what a kill
# between "written" and "renamed" leaves behind, without depending on timing.
STUCK_BEFORE_RENAME = """
import os, sys, time
limit = int(sys.argv[1])
real_replace = os.replace
renamed = 0
def replace(src, dst, *args, **kwargs):
    global renamed
    if str(dst).endswith(".parquet"):
        if renamed >= limit:
            time.sleep(600)
        renamed += 1
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
from tcpmf.cli.main import main
main(sys.argv[2:])
"""


def test_killed_between_write_and_rename_leaves_a_temporary_file_that_never_counts(
    tmp_path: Path, portfolio_file: Path
) -> None:
    samples, seed, size, done = (
        20,
        4,
        5,
        3,
    )  # 8 chunks; the run hangs with 3 renamed and the 4th in a temporary file
    out = tmp_path / "run"
    args = [
        "run",
        str(portfolio_file),
        "--samples",
        str(samples),
        "--seed",
        str(seed),
        "--chunk-size",
        str(size),
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_BEFORE_RENAME, str(done), *args],
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # stuck for good once the temporary file is whole (it ends with Parquet's closing magic):
        # until then the child may still be writing it
        wait_until(
            lambda: (
                (
                    (out / "chunks").is_dir()
                    and len(chunk_names(out)) == done
                    and len(temporaries(out)) == 1
                    and temporaries(out)[0].read_bytes().endswith(b"PAR1")
                )
                or proc.poll() is not None
            ),
            60,
            "the stuck run",
        )
        assert proc.poll() is None, "the stuck run ended by itself"

        # while it holds the folder, a second run on the same folder is refused, and leaves it alone
        before = snapshot(out)
        with pytest.raises(TcpmfError, match="another tcpmf run is writing to"):
            run(portfolio_file, samples, seed, out, chunk_size=size)
        assert snapshot(out) == before
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    [leftover] = temporaries(out)
    assert leftover.parent == out / "chunks" and leftover.name.startswith(".p0000-c000003.parquet")
    assert chunk_names(out) == [f"p0000-c{c:06d}.parquet" for c in range(done)]
    status = run_status(out)
    assert status.done == done and status.done_per_product == (done, 0)
    assert len(read_run(out, partial=True)) == done * size

    # the lock died with the process: the rerun (another executor, even) resumes and cleans up
    run(portfolio_file, samples, seed, out, chunk_size=size, executor="processes", workers=2)
    assert temporaries(out) == []
    reference = run(portfolio_file, samples, seed, tmp_path / "reference", chunk_size=size)
    _assert_same_files(out, reference)
    assert_frame_equal(read_run(out), read_run(reference))


def test_stale_temporary_files_are_removed_on_resume_and_never_read(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = run(portfolio_file, 20, 9, tmp_path / "run", chunk_size=5)
    reference = snapshot(out)
    (out / "chunks" / "p0001-c000002.parquet").unlink()
    (out / "chunks" / "p0000-c000003.parquet").unlink()
    garbage = [
        out / "chunks" / ".p0001-c000002.parquet.12345.tmp",
        out / "chunks" / ".p0000-c000003.parquet.99.tmp",
        out / ".manifest.json.777.tmp",
        out / ".report.html.5.tmp",
    ]
    for path in garbage:
        path.write_bytes(b"half a file")
    status = run_status(out)
    assert status.done == 6 and status.done_per_product == (3, 3)
    partial = read_run(out, partial=True)  # reads the six whole files, not the garbage
    assert len(partial) == 30
    read = set(zip(partial["product"].cat.codes, partial["draw"] // 5))  # (product, chunk)
    assert len(read) == 6 and (1, 2) not in read and (0, 3) not in read

    calls: list[tuple[int, int]] = []
    run(
        portfolio_file,
        20,
        9,
        out,
        chunk_size=5,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(6, 8), (7, 8), (8, 8)]
    assert temporaries(out) == []
    assert snapshot(out) == reference


def test_a_folder_left_before_its_manifest_was_written_is_started_over(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = tmp_path / "run"
    (out / "chunks").mkdir(parents=True)
    (out / ".lock").touch()
    (out / ".manifest.json.1.tmp").write_bytes(b"{")
    (out / "chunks" / ".p0000-c000000.parquet.1.tmp").write_bytes(b"PAR1")
    run(portfolio_file, 10, 0, out, chunk_size=5)
    assert temporaries(out) == [] and len(chunk_names(out)) == 4
    assert_frame_equal(read_run(out), tcpmf.monte_carlo(portfolio_file, 10, 0, chunk_size=5))


# --- refusing to mix runs --------------------------------------------------------------------------


def _changed_spec(tmp_path: Path) -> tuple[Path, list[str]]:
    data = portfolio_data()
    data["products"][0]["uncertain"]["revenue.subscription.paid_share"]["mean"] = 0.05
    return write_portfolio(tmp_path / "changed.yaml", data), [
        "portfolio spec differs",
        "products.0.uncertain.revenue.subscription.paid_share.mean",
    ]


def _changed_scenario_file(tmp_path: Path) -> tuple[Path, list[str]]:
    # the portfolio file is the same text; a product file it points at is not
    copy = tmp_path / "assumptions"
    for folder in ("products", "categories"):  # products extend ../categories/*.yaml
        shutil.copytree(runner.assumptions_dir() / folder, copy / folder)
    product = copy / "products" / "answer_engine.yaml"
    text = product.read_text(encoding="utf-8")
    assert text.count("fixed_usd_per_month:") == 1
    product.write_text(
        text.replace("fixed_usd_per_month:", "fixed_usd_per_month: 1234567 #"), encoding="utf-8"
    )
    return write_portfolio(tmp_path / "same.yaml", products_dir=copy / "products"), [
        "portfolio spec differs",
        "products.1.scenario.costs.fixed_usd_per_month",
    ]


def _changed_sampling(tmp_path: Path) -> tuple[Path, list[str]]:
    return write_portfolio(tmp_path / "mc.yaml", portfolio_data(sampling="mc")), [
        "sampling was 'lhs', now 'mc'"
    ]


@pytest.mark.parametrize(
    ("change", "arguments", "expected"),
    [
        (None, {"seed": 2}, ["seed was 1, now 2"]),
        (None, {"samples": 14}, ["samples was 12, now 14"]),
        (None, {"chunk_size": 4}, ["chunk size was 6, now 4"]),
        (_changed_spec, {}, None),
        (_changed_scenario_file, {}, None),
        (_changed_sampling, {}, None),
        (None, {"seed": 3, "samples": 6}, ["seed was 1, now 3", "samples was 12, now 6"]),
    ],
    ids=[
        "seed",
        "samples",
        "chunk-size",
        "portfolio-distribution",
        "scenario-file",
        "sampling",
        "two-at-once",
    ],
)
def test_a_folder_of_another_run_is_refused_and_left_alone(
    tmp_path: Path, portfolio_file: Path, change, arguments, expected
) -> None:
    out = run(portfolio_file, 12, 1, tmp_path / "run", chunk_size=6)
    before = snapshot(out)
    spec = portfolio_file
    if change is not None:
        spec, expected = change(tmp_path)
    call = {"samples": 12, "seed": 1, "chunk_size": 6} | arguments
    with pytest.raises(TcpmfError) as caught:
        run(spec, call["samples"], call["seed"], out, chunk_size=call["chunk_size"])
    message = str(caught.value)
    assert "holds a different run, so it cannot be resumed" in message
    for part in expected:
        assert part in message
    assert "new --out folder" in message
    assert snapshot(out) == before


def test_another_tcpmf_version_or_price_catalog_is_refused(
    tmp_path: Path, portfolio_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run(portfolio_file, 6, 1, tmp_path / "run", chunk_size=6)
    with monkeypatch.context() as m:
        m.setattr(runner, "_version", lambda: "99.0")
        with pytest.raises(
            TcpmfError, match=f"tcpmf version was '{tcpmf.__version__}', now '99.0'"
        ):
            run(portfolio_file, 6, 1, out, chunk_size=6)
    with monkeypatch.context() as m:
        m.setattr(runner, "catalog_hash", lambda directory=None: "0" * 64)
        with pytest.raises(TcpmfError, match=r"the price catalog \(assumptions/catalog\) differs"):
            run(portfolio_file, 6, 1, out, chunk_size=6)
    run(portfolio_file, 6, 1, out, chunk_size=6)  # unchanged: fine


def test_a_non_empty_folder_without_a_manifest_is_refused(
    tmp_path: Path, portfolio_file: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(
        TcpmfError,
        match=r"is not empty and holds no tcpmf run \(no manifest.json; found thesis.txt\)",
    ):
        run(portfolio_file, 6, 1, notes, chunk_size=6)
    assert sorted(p.name for p in notes.iterdir()) == ["thesis.txt"]  # refused, and left as it was

    orphan = run(portfolio_file, 6, 1, tmp_path / "orphan", chunk_size=6)
    (orphan / "manifest.json").unlink()
    with pytest.raises(TcpmfError, match=r"no manifest.json; found p0000-c000000.parquet"):
        run(portfolio_file, 6, 1, orphan, chunk_size=6)
    with pytest.raises(TcpmfError, match="holds no tcpmf run"):
        read_run(orphan)

    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(TcpmfError, match="cannot create the output folder"):
        run(portfolio_file, 6, 1, a_file, chunk_size=6)


def test_a_second_run_on_a_locked_folder_is_refused(tmp_path: Path, portfolio_file: Path) -> None:
    out = tmp_path / "run"
    with runner._locked(out):  # what a running `tcpmf run` holds
        with pytest.raises(TcpmfError, match="another tcpmf run is writing to"):
            run(portfolio_file, 6, 1, out, chunk_size=6)
        assert not (out / "manifest.json").exists()
    run(portfolio_file, 6, 1, out, chunk_size=6)
    assert run_status(out).complete


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"samples": 0}, "samples must be a whole number of at least 1"),
        ({"seed": -1}, "seed must be a whole number of at least 0"),
        ({"chunk_size": 2.5}, "chunk size must be a whole number"),
        (
            {"executor": "threads"},
            "unknown executor 'threads'; choose one of serial, processes, dask",
        ),
        ({"scheduler": "tcp://127.0.0.1:8786"}, "works with the dask executor only"),
        ({"workers": 2}, "workers apply to the processes and dask executors"),
        ({"executor": "processes", "workers": 0}, "workers must be a whole number of at least 1"),
        (
            {"executor": "dask", "scheduler": "tcp://127.0.0.1:8786", "workers": 2},
            "with a scheduler address",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, portfolio_file: Path, arguments, message: str
) -> None:
    call = {"samples": 6, "seed": 1, "chunk_size": 6} | arguments
    out = tmp_path / "run"
    with pytest.raises(TcpmfError, match=message):
        run(portfolio_file, call.pop("samples"), call.pop("seed"), out, **call)
    assert not out.exists()


# --- dask on a cluster of its own ------------------------------------------------------------------


def test_dask_scheduler_address_gives_the_same_files_and_checks_the_workers(
    tmp_path: Path, portfolio_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    reference = run(portfolio_file, 24, 2, tmp_path / "serial", chunk_size=8)
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        out = run(
            portfolio_file,
            24,
            2,
            tmp_path / "cluster",
            chunk_size=8,
            executor="dask",
            scheduler=cluster.scheduler_address,
        )
        _assert_same_files(out, reference)
        # workers with another tcpmf are refused (here: this process pretends to be another version)
        monkeypatch.setattr(runner, "_version", lambda: "99.0")
        with pytest.raises(
            TcpmfError, match=r"2 dask worker\(s\) compute with another tcpmf version"
        ):
            run(
                portfolio_file,
                24,
                2,
                tmp_path / "mismatch",
                chunk_size=8,
                executor="dask",
                scheduler=cluster.scheduler_address,
            )
        assert chunk_names(tmp_path / "mismatch") == []


def test_an_unreachable_dask_scheduler_is_a_clear_error(
    tmp_path: Path, portfolio_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(runner, "DASK_TIMEOUT_S", 1)
    with pytest.raises(
        TcpmfError, match=f"cannot reach the dask scheduler at tcp://127.0.0.1:{port}"
    ):
        run(
            portfolio_file,
            6,
            1,
            tmp_path / "run",
            chunk_size=6,
            executor="dask",
            scheduler=f"tcp://127.0.0.1:{port}",
        )


def test_a_damaged_chunk_file_is_named_and_computed_again_on_resume(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = run(portfolio_file, 12, 2, tmp_path / "run", chunk_size=4)
    whole = read_run(out)
    victim = out / "chunks" / chunk_names(out)[1]
    victim.write_bytes(victim.read_bytes()[:500])  # damaged after it was written
    with pytest.raises(TcpmfError, match=f"{victim.name} cannot be read.*rerun the same"):
        read_run(out)
    run(portfolio_file, 12, 2, out, chunk_size=4)
    assert_frame_equal(read_run(out), whole)


@pytest.mark.parametrize(
    ("name", "changed", "said"),
    [
        ("code_hash", lambda: "0" * 64, "tcpmf's code differs"),
        (
            "library_versions",
            lambda: {"numpy": "0.0", "scipy": "0.0", "pandas": "0.0", "pyarrow": "0.0"},
            "numerical libraries",
        ),
    ],
)
def test_a_resume_with_other_code_or_libraries_is_refused(
    tmp_path: Path,
    portfolio_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    changed,
    said: str,
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    run(portfolio_file, 8, 1, out, chunk_size=4)
    monkeypatch.setattr(runner, name, changed)
    with pytest.raises(TcpmfError, match=said):
        run(portfolio_file, 8, 1, out, chunk_size=4)


def test_numpy_integers_and_a_scenario_file_run_and_say_how_to_resume(
    tmp_path: Path, yaml_writer, valid_scenario_dict
) -> None:  # type: ignore[no-untyped-def]
    valid_scenario_dict["usage"]["sessions_per_day"] = {
        "dist": "uniform",
        "low": 1,
        "high": 3,
        "assumed": "test",
    }
    path = yaml_writer("s.yaml", valid_scenario_dict)
    out = run(path, np.int64(6), np.int64(1), tmp_path / "run", chunk_size=np.int64(3))  # type: ignore[arg-type]  # numpy integers on purpose
    status = run_status(out)
    assert status.complete and read_manifest(out)["seed"] == 1
    assert str(path.resolve()) in status.resume_command(
        out
    ) and "<memory>" not in status.resume_command(out)
