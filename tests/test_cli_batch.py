"""`tcpmf run` and `tcpmf report` on the command line, and the HTML report (tcpmf.outputs.report)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from batch_support import (
    child_env,
    chunk_names,
    portfolio_data,
    snapshot,
    tcpmf_command,
    write_portfolio,
)
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner, Result

import tcpmf
from tcpmf.cli.batch import SHORT
from tcpmf.cli.main import app
from tcpmf.core.yamlio import display_path
from tcpmf.outputs.report import collect, report_html
from tcpmf.uncertainty.batch import SUMMARY_TABLE_COLUMNS
from tcpmf.uncertainty.runner import read_run, run, run_status

cli = CliRunner()
SAMPLES, SEED, SIZE = 40, 5, 10  # 4 chunks per product
CONTRACT_KEYS = ["product", *SUMMARY_TABLE_COLUMNS]


@pytest.fixture
def portfolio_file(tmp_path: Path) -> Path:
    return write_portfolio(tmp_path / "two.yaml")


@pytest.fixture
def complete_run(tmp_path: Path, portfolio_file: Path) -> Path:
    return run(portfolio_file, SAMPLES, SEED, tmp_path / "run", chunk_size=SIZE)


def _invoke(*args: str | Path | int | float, columns: int = 400) -> Result:
    result = cli.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    # an uncaught exception also ends with exit code 1 under CliRunner: only a clean exit counts
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _one_error(result: Result) -> str:
    """The single line a failed command printed on stderr (no traceback, no stray progress bar)."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _expected_summary(portfolio_file: Path) -> pd.DataFrame:
    return tcpmf.summarize(tcpmf.monte_carlo(portfolio_file, SAMPLES, SEED, chunk_size=SIZE))


def _same(value: Any, expected: Any) -> bool:
    if pd.isna(expected):
        return value is None
    return value == expected


# --- tcpmf run -------------------------------------------------------------------------------------


def test_run_writes_the_dataset_and_says_how_to_report_it(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = tmp_path / "cli"
    result = _invoke(
        "run",
        portfolio_file,
        "--samples",
        SAMPLES,
        "--seed",
        SEED,
        "--chunk-size",
        SIZE,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "8/8 chunks" in result.stderr and "tcpmf report" in result.stderr
    assert result.stdout == ""
    assert_frame_equal(
        read_run(out), tcpmf.monte_carlo(portfolio_file, SAMPLES, SEED, chunk_size=SIZE)
    )
    # the same command again: every chunk is there already, nothing is rewritten
    before = snapshot(out)
    again = _invoke(
        "run",
        portfolio_file,
        "--samples",
        SAMPLES,
        "--seed",
        SEED,
        "--chunk-size",
        SIZE,
        "--out",
        out,
    )
    assert (
        again.exit_code == 0
        and "resuming" in again.stderr
        and "8 of 8 chunks already written" in again.stderr
    )
    assert snapshot(out) == before


def test_run_into_the_folder_of_another_run_exits_1_naming_the_difference(
    tmp_path: Path, portfolio_file: Path
) -> None:
    out = run(portfolio_file, SAMPLES, SEED, tmp_path / "run", chunk_size=SIZE)
    before = snapshot(out)
    changed = portfolio_data()
    changed["products"][1]["uncertain"]["retention.r1"]["high"] = 0.3
    other = write_portfolio(tmp_path / "other.yaml", changed)
    result = _invoke(
        "run", other, "--samples", SAMPLES, "--seed", SEED, "--chunk-size", SIZE, "--out", out
    )
    assert result.exit_code == 1
    assert (
        "holds a different run" in result.stderr
        and "products.1.uncertain.retention.r1.high" in result.stderr
    )
    result = _invoke(
        "run",
        portfolio_file,
        "--samples",
        SAMPLES,
        "--seed",
        SEED + 1,
        "--chunk-size",
        SIZE,
        "--out",
        out,
    )
    assert result.exit_code == 1 and f"seed was {SEED}, now {SEED + 1}" in result.stderr
    result = _invoke(
        "run", portfolio_file, "--samples", SAMPLES, "--seed", SEED, "--out", out
    )  # default chunk size
    assert result.exit_code == 1 and "chunk size was 10, now 50000" in result.stderr
    assert snapshot(out) == before


def _bad_distribution(tmp_path: Path) -> tuple[list[Any], list[str]]:
    data = portfolio_data()
    data["products"][0]["uncertain"]["revenue.subscription.paid_share"] = {
        "dist": "uniform",
        "low": 0.5,
        "high": 1.5,
    }
    path = write_portfolio(tmp_path / "bad.yaml", data)
    return [path], [
        "bad.yaml",
        "products.0.uncertain.revenue.subscription.paid_share",
        "can draw 1.5",
    ]


def _unknown_distribution(tmp_path: Path) -> tuple[list[Any], list[str]]:
    data = portfolio_data()
    data["products"][1]["uncertain"]["retention.r1"] = {"dist": "gaussian", "mean": 0.2, "sd": 0.05}
    path = write_portfolio(tmp_path / "unknown.yaml", data)
    return [path], ["unknown.yaml", "products.1.uncertain.retention.r1"]


def _broken_yaml(tmp_path: Path) -> tuple[list[Any], list[str]]:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nproducts: [\n", encoding="utf-8")
    return [path], ["broken.yaml"]


def _missing_file(tmp_path: Path) -> tuple[list[Any], list[str]]:
    return [tmp_path / "nowhere.yaml"], ["nowhere.yaml: no such portfolio file"]


def _with(*options: str) -> Any:
    def arguments(tmp_path: Path) -> tuple[list[Any], list[str]]:
        return [write_portfolio(tmp_path / "two.yaml"), *options], []

    return arguments


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_missing_file, None),
        (_bad_distribution, None),
        (_unknown_distribution, None),
        (_broken_yaml, None),
        (
            _with("--executor", "threads"),
            ["unknown executor 'threads'; choose one of serial, processes, dask"],
        ),
        (
            _with("--scheduler", "tcp://127.0.0.1:8786"),
            ["works with the dask executor only (--executor dask)"],
        ),
        (_with("--workers", "2"), ["workers apply to the processes and dask executors"]),
    ],
    ids=[
        "missing-file",
        "invalid-distribution",
        "unknown-distribution",
        "broken-yaml",
        "bad-executor",
        "scheduler-without-dask",
        "workers-with-serial",
    ],
)
def test_bad_input_to_run_is_one_clear_message_and_exit_1(
    tmp_path: Path, make: Any, expected: list[str] | None
) -> None:
    arguments, named = make(tmp_path)
    out = tmp_path / "out"
    message = _one_error(_invoke("run", *arguments, "--samples", 10, "--out", out))
    for part in expected or named:
        assert part in message
    assert not out.exists()


def test_run_into_a_folder_that_holds_something_else_is_refused(
    tmp_path: Path, portfolio_file: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("keep", encoding="utf-8")
    message = _one_error(_invoke("run", portfolio_file, "--samples", 10, "--out", folder))
    assert "is not empty and holds no tcpmf run" in message and "todo.txt" in message
    assert (folder / "todo.txt").read_text(encoding="utf-8") == "keep"


# --- tcpmf report ----------------------------------------------------------------------------------


def test_report_json_is_the_summary_of_the_same_draws(
    complete_run: Path, portfolio_file: Path
) -> None:
    result = _invoke("report", complete_run, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = _expected_summary(portfolio_file)
    assert [list(row) for row in rows] == [CONTRACT_KEYS] * 2
    assert [row["product"] for row in rows] == ["Writer", "Answers"]
    for row, (_, want) in zip(rows, expected.iterrows()):
        assert row["draws"] == SAMPLES
        assert 0 <= row["p_clears_break_even"] <= 1
        for key in CONTRACT_KEYS:
            assert _same(row[key], want[key]), (row["product"], key, row[key], want[key])
    assert (complete_run / "report.html").is_file()
    assert "PARTIAL" not in result.stderr


def test_report_json_in_a_read_only_folder_prints_the_json_and_warns(
    complete_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 15: the JSON was lost because report.html could not be written (root ignores chmod,
    # so the write itself is made to fail as a read-only folder fails it)
    import tcpmf.outputs.report as report_module

    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report_module, "write_atomic", refuse)
    (complete_run / "report.html").unlink(missing_ok=True)
    result = _invoke("report", complete_run, "--json")
    assert result.exit_code == 0, result.output
    assert [row["product"] for row in json.loads(result.stdout)] == ["Writer", "Answers"]
    assert (
        "warning:" in result.stderr
        and "report.html" in result.stderr
        and "Permission denied" in result.stderr
    )
    assert not (complete_run / "report.html").exists()


def test_cannot_write_the_output_names_the_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tcpmf.cli.main as cli_main

    def full_disk(**_: object) -> None:
        raise OSError(28, "No space left on device", "summary.csv")

    monkeypatch.setattr(cli_main, "app", full_disk)
    with pytest.raises(SystemExit):
        cli_main.main(["export"])
    err_text = capsys.readouterr().err
    assert "cannot write the output to summary.csv (No space left on device)" in err_text


def test_report_csv_has_the_same_numbers(complete_run: Path, portfolio_file: Path) -> None:
    result = _invoke("report", complete_run, "--csv")
    assert result.exit_code == 0, result.output
    from io import StringIO

    table = pd.read_csv(StringIO(result.stdout))
    assert list(table.columns) == CONTRACT_KEYS
    expected = _expected_summary(portfolio_file)
    for key in CONTRACT_KEYS[1:]:
        assert table[key].tolist() == pytest.approx(
            expected[key].astype(float).tolist(), nan_ok=True
        ), key


def _table_rows(stdout: str) -> tuple[list[str], dict[str, list[str]]]:
    """Header cells and the cells of each product row of a rich table."""
    lines = [line for line in stdout.splitlines() if line.startswith(("┃", "│"))]
    cells = [
        [c.strip() for c in line.strip("┃│").split("┃" if line.startswith("┃") else "│")]
        for line in lines
    ]
    header, body = cells[0], cells[1:]
    return header, {row[0]: row[1:] for row in body}


def _number(cell: str) -> float | None:
    return None if cell == "—" else float(cell.replace(",", ""))


def test_report_table_shows_the_summary_with_short_headers(
    complete_run: Path, portfolio_file: Path
) -> None:
    result = _invoke("report", complete_run)
    assert result.exit_code == 0, result.output
    assert f"Two products: {SAMPLES:,} draws per product, seed {SEED}" in result.stdout
    header, rows = _table_rows(result.stdout)
    assert header == ["product", "draws", *(SHORT[c] for c in SUMMARY_TABLE_COLUMNS[1:])]
    expected = _expected_summary(portfolio_file).set_index("product")
    assert sorted(rows) == ["Answers", "Writer"]
    for product, cells in rows.items():
        want = expected.loc[product]
        shown = dict(zip(SUMMARY_TABLE_COLUMNS, (_number(c) for c in cells)))
        assert shown["draws"] == SAMPLES
        assert shown["p_clears_break_even"] == pytest.approx(
            round(want["p_clears_break_even"] * 100, 1)
        )
        for key in SUMMARY_TABLE_COLUMNS[2:]:
            if pd.isna(want[key]):
                assert shown[key] is None, (product, key)
            elif "month" in key:  # whole months
                assert shown[key] == round(want[key]), (product, key)
            else:  # dollars, to the dollar
                assert shown[key] == pytest.approx(want[key], abs=0.51), (product, key)
    assert "wrote" in result.stderr and "report.html" in result.stderr


def _spec(page: str) -> dict[str, Any]:
    match = re.search(r"(?:var|const) spec = (\{.*?\});\n", page, re.DOTALL)
    assert match, "no vega spec in the page"
    spec: dict[str, Any] = json.loads(match.group(1))
    return spec


def _records(node: Any) -> list[dict[str, Any]]:
    """Every data record (a dict with a 'product' field) anywhere in a vega-lite spec."""
    if isinstance(node, dict):
        found = [node] if "product" in node and not isinstance(node["product"], dict) else []
        return found + [r for v in node.values() for r in _records(v)]
    if isinstance(node, list):
        return [r for v in node for r in _records(v)]
    return []


def _chart_data(spec: dict[str, Any], chart: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one chart: inline, or a named top-level dataset (altair consolidates them)."""
    data = chart["data"]
    rows: list[dict[str, Any]] = (
        spec["datasets"][data["name"]] if "name" in data else data["values"]
    )
    return rows


def test_report_html_holds_the_table_and_the_charts(
    complete_run: Path, portfolio_file: Path
) -> None:
    result = _invoke("report", complete_run)
    assert result.exit_code == 0, result.output
    page = (complete_run / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "vegaEmbed" in page
    # standalone: the Vega scripts are inlined, nothing is fetched when the page opens
    assert re.findall(r"<script[^>]*\bsrc=", page) == [] and "cdn.jsdelivr" not in page
    assert "<title>Two products: 40 draws per product, seed 5</title>" in page
    assert "Writer" in page and "Answers" in page and "PARTIAL" not in page
    spec = _spec(page)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert len(spec["vconcat"]) == 4  # P(clears), payback month, TC-PMF month, peak funding
    records = _records(spec)
    expected = _expected_summary(portfolio_file).set_index("product")
    clears = {r["product"]: r["p_clears_break_even"] for r in records if "p_clears_break_even" in r}
    assert clears == {
        p: pytest.approx(expected.loc[p, "p_clears_break_even"]) for p in ("Writer", "Answers")
    }
    payback, tcpmf_month, funding = (_chart_data(spec, chart) for chart in spec["vconcat"][1:])
    for curves in (payback, tcpmf_month, funding):
        assert sorted(r["product"] for r in curves) == ["Answers", "Writer"]
    # a month curve ends at the share of draws that got there within the horizon
    draws = read_run(complete_run, ["product", "payback_month", "tcpmf_month", "peak_funding_usd"])
    for curves, column in ((payback, "payback_month"), (tcpmf_month, "tcpmf_month")):
        for r in curves:
            reached = draws.loc[draws["product"] == r["product"], column].notna().mean()
            assert r["share"][-1] == pytest.approx(reached, abs=1e-5)
            assert r["month"] == list(range(len(r["share"]))) and r["share"] == sorted(r["share"])
    for r in funding:  # P1 ... P99 of peak funding
        usd = draws.loc[draws["product"] == r["product"], "peak_funding_usd"].dropna()
        assert r["percentile"] == list(range(1, 100))
        assert usd.min() - 0.01 <= r["usd"][0] <= r["usd"][-1] <= usd.max() + 0.01


def test_report_html_keeps_names_inside_their_script(tmp_path: Path) -> None:
    # a product name is data: it must not end the page's <script> (and run what follows it)
    data = portfolio_data(name="Ideas <2026> & co")
    data["products"][0]["name"] = "Writer</script><script>alert(1)</script>"
    path = write_portfolio(tmp_path / "odd.yaml", data)
    out = run(path, 10, 1, tmp_path / "run", chunk_size=10)
    page = report_html(collect(out))
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == len(re.findall(r"<script\b", page))
    assert "Writer&lt;/script&gt;" in page  # the table cell, escaped as HTML
    spec = _spec(page)
    names = {r["product"] for r in _records(spec)}
    assert names == {"Writer</script><script>alert(1)</script>", "Answers"}
    assert spec["title"]["text"].startswith("Ideas <2026> & co: 10 draws")


def test_report_of_an_incomplete_run_needs_partial_and_says_partial(complete_run: Path) -> None:
    (complete_run / "chunks" / "p0001-c000003.parquet").unlink()
    (complete_run / "chunks" / "p0001-c000001.parquet").unlink()
    message = _one_error(_invoke("report", complete_run))
    assert "is incomplete: 6 of 8 chunks written" in message and "tcpmf run" in message
    assert not (complete_run / "report.html").exists()

    result = _invoke("report", complete_run, "--partial", "--json")
    assert result.exit_code == 0, result.output
    assert "PARTIAL results: 6 of 8 chunks written" in result.stderr
    rows = json.loads(result.stdout)
    assert [row["draws"] for row in rows] == [SAMPLES, SAMPLES - 2 * SIZE]
    expected = tcpmf.summarize(read_run(complete_run, partial=True))
    for row, (_, want) in zip(rows, expected.iterrows()):
        for key in CONTRACT_KEYS:
            assert _same(row[key], want[key]), key
    page = (complete_run / "report.html").read_text(encoding="utf-8")
    assert 'class="partial"' in page and "PARTIAL (6 of 8 chunks written)" in page
    assert _spec(page)["title"]["text"].startswith("PARTIAL")

    table = _invoke("report", complete_run, "--partial")
    assert table.exit_code == 0 and "PARTIAL (6 of 8 chunks written)" in table.stdout


def test_partial_report_leaves_out_a_product_with_no_chunk_yet(complete_run: Path) -> None:
    for name in chunk_names(complete_run):
        if name.startswith("p0000"):
            (complete_run / "chunks" / name).unlink()
    rep = collect(complete_run, partial=True)
    assert rep.partial and rep.table["product"].tolist() == ["Answers"]
    assert set(rep.months["product"]) == set(rep.funding["product"]) == {"Answers"}
    for name in chunk_names(complete_run):
        (complete_run / "chunks" / name).unlink()
    message = _one_error(_invoke("report", complete_run, "--partial"))
    assert "has no chunks written yet" in message


def test_report_of_a_folder_without_a_run_is_refused(tmp_path: Path) -> None:
    assert "does not exist" in _one_error(_invoke("report", tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    assert "holds no tcpmf run (no manifest.json)" in _one_error(
        _invoke("report", tmp_path / "empty")
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    assert "cannot be read" in _one_error(_invoke("report", broken))


def test_the_resume_command_of_a_partial_report_resumes_the_run(tmp_path: Path) -> None:
    # paths with a space: the printed command must still be one a shell runs as meant
    folder = tmp_path / "my ideas"
    portfolio_file = write_portfolio(folder / "two products.yaml")
    out = run(portfolio_file, SAMPLES, SEED, folder / "run 1", chunk_size=SIZE)
    (out / "chunks" / "p0000-c000002.parquet").unlink()
    command = run_status(out).resume_command(out)
    argv = shlex.split(command)
    assert argv[:3] == ["tcpmf", "run", display_path(portfolio_file)]
    # paths in the command are as seen from this working directory, so the command runs from here
    resumed = subprocess.run(
        tcpmf_command(*argv[1:]),
        check=False,
        cwd=Path.cwd(),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert run_status(out).complete
    assert_frame_equal(
        read_run(out), tcpmf.monte_carlo(portfolio_file, SAMPLES, SEED, chunk_size=SIZE)
    )
