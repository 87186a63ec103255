"""scripts/app hands voila exactly one port: --port=N as given, else $PORT, else 8866."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """scripts/app in a copy of the checkout whose venv step does nothing and whose voila prints its arguments."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "app", tmp_path / "scripts" / "app")
    (tmp_path / "scripts" / "_venv.sh").write_text(
        'set -euo pipefail\ncd "$(dirname "${BASH_SOURCE[0]}")/.."\n'
    )
    voila = tmp_path / ".venv" / "bin" / "voila"
    voila.parent.mkdir(parents=True)
    voila.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    voila.chmod(0o755)
    return tmp_path / "scripts" / "app"


def ports(app: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    run_env = {k: v for k, v in os.environ.items() if k != "PORT"} | (env or {})
    out = subprocess.run(
        ["bash", str(app), *args], capture_output=True, text=True, check=True, env=run_env
    ).stdout
    lines = out.splitlines()
    assert lines[0] == "notebooks/01_founder_break_even.ipynb"
    found = [line for line in lines if line.startswith(("--port", "--Voila.port"))]
    if "--port" in lines:  # "--port N": the value follows
        found[found.index("--port")] += "=" + lines[lines.index("--port") + 1]
    return found


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {}, ["--port=8866"]),
        ((), {"PORT": "9001"}, ["--port=9001"]),
        (("--port=8871", "--no-browser"), {}, ["--port=8871"]),
        (("--port", "8872"), {"PORT": "9001"}, ["--port=8872"]),
        (("--Voila.port=8873",), {}, ["--Voila.port=8873"]),
    ],
)
def test_voila_gets_one_port(
    app_copy: Path, args: tuple[str, ...], env: dict[str, str], expected: list[str]
) -> None:
    assert ports(app_copy, *args, env=env) == expected


def test_the_app_uses_the_offline_template_and_a_preheated_kernel(app_copy: Path) -> None:
    """The page template that fetches nothing from outside 127.0.0.1 is found, and a kernel is pre-heated."""
    voila = app_copy.parent.parent / ".venv" / "bin" / "voila"
    voila.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\necho "JUPYTER_PATH=$JUPYTER_PATH"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
    lines = subprocess.run(
        ["bash", str(app_copy)], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert "--template=tcpmf" in lines and "--preheat_kernel=True" in lines
    [jupyter_path] = [
        line.removeprefix("JUPYTER_PATH=") for line in lines if line.startswith("JUPYTER_PATH=")
    ]
    assert Path(jupyter_path) == app_copy.parent.parent / "notebooks" / "jupyter"
    template = ROOT / "notebooks" / "jupyter" / "voila" / "templates" / "tcpmf" / "index.html.j2"
    assert template.is_file() and "https://" not in template.read_text(encoding="utf-8").replace(
        "https://cdn.jsdelivr.net/npm/@fortawesome", ""
    )  # the only URLs in it are the CDN links it removes
