"""A real browser: notebook 01 served by Voila on 127.0.0.1, driven by headless Chromium; and the
batch report's standalone page opened with the network cut off.

Debian's ``/usr/bin/chromium`` is used (``scripts/test`` installs it); no browser is downloaded.
The test moves the price slider, checks that the verdict and the cash chart change, saves a
screenshot under pytest's temporary directory and prints the slider-to-redraw latency.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = ROOT / "notebooks" / "01_founder_break_even.ipynb"
START_TIMEOUT_S = 120.0
#: What scripts/app gives voila besides the port: the page template that fetches nothing from
#: outside 127.0.0.1 (found through JUPYTER_PATH) and a pre-heated kernel.
APP_ARGS = ["--template=tcpmf", "--preheat_kernel=True"]
JUPYTER_PATH = ROOT / "notebooks" / "jupyter"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="needs Debian's chromium at /usr/bin/chromium (scripts/test installs it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(NOTEBOOK),
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
                "--Voila.port_retries=0",
                *APP_ARGS,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            # the kernel imports this checkout's tcpmf, whichever one the environment has installed
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
                ),
                "JUPYTER_PATH": os.pathsep.join(
                    filter(None, [str(JUPYTER_PATH), os.environ.get("JUPYTER_PATH")])
                ),
            },
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(url + "voila/static/", timeout=5):
                        break
                except urllib.error.HTTPError:  # any HTTP answer means the server is up
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(
                            f"voila did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text()}"
                        )
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    """pytest-playwright: Debian's chromium, headless, no sandbox (we may run as root in CI)."""
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, object]:
    return {"viewport": {"width": 1400, "height": 1300}}


def _outside(url: str) -> bool:
    return not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))


def test_cold_load_shows_a_loading_note_and_asks_nothing_outside_127_0_0_1(
    voila_url: str, page
) -> None:  # type: ignore[no-untyped-def]
    """The first page of a fresh server: a loading note until the first verdict, then the app, and
    not one request outside 127.0.0.1 (no CDN for fonts, icons, widgets or charts).  The time to the
    first verdict is printed (benchmarks/bench_app_load.py compares it with Voila's defaults)."""
    external: list[str] = []
    page.on(
        "request", lambda request: external.append(request.url) if _outside(request.url) else None
    )
    page.on("websocket", lambda ws: external.append(ws.url) if _outside(ws.url) else None)
    timeout_ms = START_TIMEOUT_S * 1000
    started = time.perf_counter()
    page.goto(voila_url, timeout=timeout_ms, wait_until="commit")
    page.wait_for_selector("#tcpmf-loading", state="visible", timeout=timeout_ms)
    note = page.locator("#tcpmf-loading").inner_text()
    page.wait_for_function(
        "(document.querySelector('.tcpmf-headline') || {}).innerText", timeout=timeout_ms
    )
    first_verdict_s = time.perf_counter() - started
    page.wait_for_selector(
        "#tcpmf-loading", state="detached", timeout=5_000
    )  # gone with the first verdict
    page.wait_for_selector(".tcpmf-chart-cash canvas, .tcpmf-chart-cash svg", timeout=timeout_ms)
    page.wait_for_timeout(1000)  # whatever the charts and fonts ask for late
    assert "Computing the break-even verdict" in note
    assert page.locator(".tcpmf-headline").inner_text().startswith(("Clears", "Doesn't clear"))
    assert external == []
    print(
        f"\ncold load (fresh server, pre-heated kernel): first verdict {first_verdict_s:.1f} s after navigation"
    )


def test_open_move_save_reopen_gives_the_same_verdict_and_compare_shows_both(
    voila_url: str, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """As a founder would: open a file by its path, move a slider, save, pin, then open the saved
    file: the same verdict; the compare view shows the pinned and the current state."""
    timeout_ms = START_TIMEOUT_S * 1000
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(voila_url, timeout=timeout_ms)
    page.wait_for_function(
        "(document.querySelector('.tcpmf-headline') || {}).innerText", timeout=timeout_ms
    )
    path_box = page.locator(".tcpmf-path input")
    message = page.locator(".tcpmf-message")

    def press(button: str, expect: str) -> None:
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_function(
            "([want]) => ((document.querySelector('.tcpmf-message') || {}).innerText || '').includes(want)",
            arg=[expect],
            timeout=60_000,
        )

    bundled = str(ROOT / "assumptions" / "products" / "writing_assistant.yaml")
    path_box.fill(bundled)
    press("open", f"opened {bundled}")
    opened = page.locator(".tcpmf-headline").inner_text()
    handle = page.locator(".tcpmf-slider-price_usd_per_month .noUi-handle")
    handle.focus()
    for _ in range(12):  # the price up by 6 USD a month
        handle.press("ArrowRight")
    page.wait_for_function(
        "([old]) => document.querySelector('.tcpmf-headline').innerText !== old",
        arg=[opened],
        timeout=60_000,
    )
    page.wait_for_timeout(1500)  # every key press has been computed
    moved_headline = page.locator(".tcpmf-headline").inner_text()
    moved_details = page.locator(".tcpmf-details").inner_text()
    saved = tmp_path / "my_product.yaml"
    path_box.fill(str(saved))
    press("save", "saved to")
    assert saved.is_file() and "not saved" not in message.inner_text()

    page.get_by_role("button", name="pin to compare", exact=True).click()
    compare = page.locator(".tcpmf-compare-table")
    compare.wait_for(state="visible", timeout=60_000)
    assert [r.strip().split()[0] for r in compare.locator("tr").all_inner_texts()[1:]] == [
        "pinned",
        "now",
    ]
    page.wait_for_function(
        "document.querySelector('.tcpmf-chart-cash').innerText.includes('pinned')"
        " || !!document.querySelector('.tcpmf-chart-cash svg, .tcpmf-chart-cash canvas')",
        timeout=60_000,
    )

    page.get_by_role(
        "button", name="reset to file", exact=True
    ).click()  # back to the file: another verdict
    page.wait_for_function(
        "([old]) => document.querySelector('.tcpmf-headline').innerText === old",
        arg=[opened],
        timeout=60_000,
    )
    assert opened != moved_headline
    path_box.fill(str(saved))
    press("open", f"opened {saved}")
    assert page.locator(".tcpmf-headline").inner_text() == moved_headline
    assert page.locator(".tcpmf-details").inner_text() == moved_details
    page.screenshot(path=str(tmp_path / "reopened.png"), full_page=True)


def test_price_slider_updates_verdict_and_chart(voila_url: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    timeout_ms = START_TIMEOUT_S * 1000
    page.goto(voila_url, timeout=timeout_ms)
    verdict = page.locator(".tcpmf-verdict")
    verdict.wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "document.querySelector('.tcpmf-verdict').innerText.includes('break-even')",
        timeout=timeout_ms,
    )
    chart = page.locator(".tcpmf-chart-cash")
    page.wait_for_selector(".tcpmf-chart-cash canvas, .tcpmf-chart-cash svg", timeout=timeout_ms)
    page.wait_for_timeout(1000)  # let vega finish its first render
    before_text = verdict.inner_text()
    before_chart = chart.screenshot()

    handle = page.locator(".tcpmf-slider-price_usd_per_month .noUi-handle")
    handle.focus()
    started = time.perf_counter()
    handle.press("ArrowRight")  # one step: the price rises by 0.5 USD a month
    page.wait_for_function(
        "([old]) => document.querySelector('.tcpmf-verdict').innerText !== old",
        arg=[before_text],
        timeout=60_000,
    )
    latency_ms = (time.perf_counter() - started) * 1000
    for _ in range(19):  # on to 30 USD a month
        handle.press("ArrowRight")
    settled, last = 0, ""
    for _ in range(120):  # until the verdict has not changed for a second
        page.wait_for_timeout(250)
        text = verdict.inner_text()
        settled = settled + 1 if text == last else 0
        last = text
        if settled >= 4:
            break
    page.wait_for_timeout(500)  # the chart redraws with the verdict's message; let vega paint
    after_text = verdict.inner_text()
    after_chart = chart.screenshot()
    shot = tmp_path / "founder_app.png"
    page.screenshot(path=str(shot), full_page=True)
    print(
        f"\nslider-to-redraw latency (one key press to the new verdict in the page): {latency_ms:.0f} ms"
        f"\nscreenshot: {shot}"
    )

    readout = page.locator(".tcpmf-typed-price_usd_per_month input").input_value()
    assert float(readout) == pytest.approx(30.0)
    assert after_text != before_text
    assert "break-even" in after_text and (
        "max affordable" in after_text or "no token price affords it" in after_text
    )
    assert after_chart != before_chart
    assert shot.stat().st_size > 10_000


def _covered(page, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The elements matching *selector* that are hidden, clipped by the window or covered at their centre."""
    return list(
        page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)].filter(el => {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0 || r.right > window.innerWidth) return true;
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            el.scrollIntoView({block: 'center'});
            const s = el.getBoundingClientRect();
            const top = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
            return !(top && (el === top || el.contains(top)));
        }).map(el => el.className)""",
            selector,
        )
    )


@pytest.mark.parametrize("width", [1024, 1280, 1920])
def test_readouts_stay_visible_and_typed_values_are_validated(
    voila_url: str, page, width: int
) -> None:  # type: ignore[no-untyped-def]
    """At each width every slider's value box is visible and uncovered; a typed price beyond the
    slider is taken as typed and text that is not a number is refused with a visible message."""
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if not request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.set_viewport_size({"width": width, "height": 1000})
    timeout_ms = START_TIMEOUT_S * 1000
    started = time.perf_counter()
    page.goto(voila_url, timeout=timeout_ms)
    page.wait_for_function(
        "(document.querySelector('.tcpmf-headline') || {}).innerText", timeout=timeout_ms
    )
    first_verdict_s = time.perf_counter() - started
    page.wait_for_timeout(500)
    boxes = page.locator(".tcpmf-app input[type=text]")
    assert boxes.count() >= 15  # every slider, the new drivers included
    assert _covered(page, ".tcpmf-app input[type=text]") == []
    assert "e+" not in page.locator(".tcpmf-app").inner_text()
    headline = page.locator(".tcpmf-headline").inner_text()
    assert headline.startswith(("Clears", "Doesn't clear"))

    price = page.locator(".tcpmf-typed-price_usd_per_month input")
    price.fill("500")
    price.press("Enter")
    page.wait_for_function(
        "([old]) => document.querySelector('.tcpmf-headline').innerText !== old",
        arg=[headline],
        timeout=60_000,
    )
    assert price.input_value() == "500"
    taken = page.locator(".tcpmf-headline").inner_text()
    price.fill("abc")
    price.press("Enter")
    page.wait_for_function(
        "(document.querySelector('.tcpmf-message') || {}).innerText", timeout=60_000
    )
    assert "not a number" in page.locator(".tcpmf-message").inner_text()
    page.wait_for_timeout(300)
    assert price.input_value() == "500" and page.locator(".tcpmf-headline").inner_text() == taken
    print(
        f"\n{width} px: first verdict {first_verdict_s:.1f} s after navigation; "
        f"requests outside 127.0.0.1: {sorted(set(external)) or 'none'}"
    )


def test_batch_report_draws_its_charts_with_the_network_cut_off(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`tcpmf report`'s page is standalone: every request that is not the file itself is refused,
    and the four charts still draw."""
    from tcpmf.core.yamlio import assumptions_dir
    from tcpmf.outputs.report import write_report
    from tcpmf.uncertainty.runner import run

    out = run(
        assumptions_dir() / "portfolios" / "consumer_stages.yaml",
        200,
        1,
        tmp_path / "run",
        chunk_size=100,
    )
    _, html = write_report(out)
    fetched: list[str] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        fetched.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(html.as_uri())
    page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=60_000)
    page.wait_for_timeout(500)
    marks = page.locator(".vega-embed svg .mark-rect path, .vega-embed svg .mark-line path")
    assert marks.count() > 0  # bars and curves, not an empty frame
    assert "Writing assistant" in page.locator("table").first.inner_text()
    assert (
        page.locator(".vega-embed svg g.role-legend").count() == 3
    )  # one under each chart with curves
    assert page.locator("table.inputs svg").count() > 0  # the inputs' densities
    assert fetched == []
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_compare_page_shows_its_table_and_chart_with_the_network_cut_off(
    page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`tcpmf compare`'s page loads nothing: the table and the inline chart are in the file."""
    from tcpmf.core.yamlio import assumptions_dir
    from tcpmf.outputs.compare_report import compare_html
    from tcpmf.uncertainty.compare import compare_runs
    from tcpmf.uncertainty.runner import run

    out = run(
        assumptions_dir() / "portfolios" / "consumer_stages.yaml",
        100,
        1,
        tmp_path / "run",
        chunk_size=100,
    )
    path = tmp_path / "compare.html"
    path.write_text(compare_html(compare_runs(out, out), "A", "B"), encoding="utf-8")
    fetched: list[str] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        fetched.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(path.as_uri())
    assert page.locator("svg circle").count() == 5  # one difference per product
    assert "Writing assistant" in page.locator("table").first.inner_text()
    assert fetched == []


def test_report_sensitivity_section_renders_with_the_network_cut_off(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`tcpmf report DIR --sensitivity`: the tornado bars, the Sobol and rank tables and the PRIM
    ranges are drawn in the page with nothing fetched."""
    from tcpmf.core.yamlio import assumptions_dir
    from tcpmf.outputs.report import write_report
    from tcpmf.uncertainty.runner import run

    out = run(
        assumptions_dir() / "portfolios" / "consumer_stages.yaml",
        300,
        2,
        tmp_path / "run",
        chunk_size=300,
    )
    _, html = write_report(out, sensitivity=True, sobol_samples=16)
    fetched: list[str] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        fetched.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(html.as_uri())
    section = page.locator("#sensitivity")
    section.wait_for(timeout=60_000)
    assert page.locator("#sensitivity h3").count() == 5
    tornadoes = page.locator("#sensitivity svg.tornado")
    assert tornadoes.count() == 5
    box = tornadoes.first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 40  # drawn, not collapsed
    assert page.locator("#sensitivity svg.tornado rect").count() >= 2 * 5
    assert page.locator("#sensitivity table.sens-sobol tbody tr").count() > 0
    assert page.locator("#sensitivity table.sens-rank tbody tr").count() > 0
    assert "PRIM box" in section.inner_text() and "new evaluations" in section.inner_text()
    assert fetched == []
    section.screenshot(path=str(tmp_path / "sensitivity.png"))


EXPORTED = sorted((ROOT / "notebooks").glob("0[2-7]_*.ipynb"))


@pytest.mark.parametrize("notebook", EXPORTED, ids=[p.stem for p in EXPORTED])
def test_exported_notebook_html_draws_its_charts_with_the_network_cut_off(
    notebook: Path, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`jupyter nbconvert --to html --execute` of a notebook: every chart in the page draws with all
    http(s) requests refused (the Vega scripts are inline; a widget, which needs a kernel, is not a chart here)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--execute",
            str(notebook),
            "--output-dir",
            str(tmp_path),
            "--ExecutePreprocessor.timeout=600",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=900,
    )
    html = tmp_path / f"{notebook.stem}.html"
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(html.as_uri())
    charts = page.locator(".tcpmf-vega")
    assert charts.count() >= 1
    page.wait_for_function(
        "[...document.querySelectorAll('.tcpmf-vega')].every(el => el.querySelector('svg, canvas'))",
        timeout=60_000,
    )
    assert (
        page.locator(
            ".tcpmf-vega .mark-line path, .tcpmf-vega .mark-rect path, .tcpmf-vega .mark-symbol path,"
            " .tcpmf-vega canvas"
        ).count()
        > 0
    )
