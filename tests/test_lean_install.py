"""A plain ``pip install tcpmf`` (no extras) runs the library a model imports, and a feature that
needs an extra names it (docs/architecture.md, "Install")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from tcpmf.core.extras import EXTRA_OF_PACKAGE, MissingExtraError, extra_for

ROOT = Path(__file__).resolve().parent.parent

# Every package of an extra is made unimportable before tcpmf is imported.
_BLOCK = textwrap.dedent(f"""
    import sys
    from importlib.abc import MetaPathFinder

    BLOCKED = {sorted(EXTRA_OF_PACKAGE)!r}

    class Blocker(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
""")


def _run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_core_api_runs_without_any_extra() -> None:
    proc = _run_without_extras("""
        import tcpmf
        scenario = tcpmf.load("assumptions/products/writing_assistant.yaml")
        result = tcpmf.evaluate([scenario, scenario.override({"usage.sessions_per_day": 2})])
        assert len(result.summary) == 2 and len(result.monthly) > 0
        assert len(tcpmf.timeline()) > 0
        tcpmf.what_it_takes(scenario)
        print("core ok")
    """)
    assert proc.returncode == 0 and "core ok" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("tcpmf.read_run", "batch"),
        (
            "tcpmf.crossover_chart(tcpmf.load('assumptions/products/writing_assistant.yaml'))",
            "charts",
        ),
        (
            "tcpmf.evaluate('assumptions/products/writing_assistant.yaml').to_excel('never.xlsx')",
            "excel",
        ),
    ],
)
def test_a_feature_that_needs_an_extra_names_it(code: str, extra: str) -> None:
    proc = _run_without_extras(f"""
        import tcpmf
        from tcpmf.core.extras import MissingExtraError
        try:
            {code}
        except MissingExtraError as exc:
            print("refused:", exc)
    """)
    assert f"pip install 'tcpmf[{extra}]'" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_command_without_the_cli_extra_says_what_to_install() -> None:
    proc = _run_without_extras("""
        from tcpmf.cli import main
        main(["breakeven"])
    """)
    assert proc.returncode == 1
    assert "pip install 'tcpmf[cli]'" in proc.stderr and "Traceback" not in proc.stderr


def test_every_extra_named_in_the_code_exists_in_pyproject() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRA_OF_PACKAGE.values()) <= set(extras)
    for package, extra in EXTRA_OF_PACKAGE.items():
        requirements = " ".join(extras[extra]).lower().replace("-", "_")
        assert package.lower() in requirements, (package, extra)


def test_the_message_names_package_extra_and_command() -> None:
    exc = MissingExtraError("pyarrow.parquet", "reading a run folder")
    assert (exc.package, exc.extra) == ("pyarrow", extra_for("pyarrow")) == ("pyarrow", "batch")
    assert (
        str(exc)
        == "reading a run folder needs pyarrow, from the 'batch' extra: pip install 'tcpmf[batch]'"
    )
