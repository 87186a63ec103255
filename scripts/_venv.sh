# Sourced by the scripts in this folder: make sure .venv exists and holds tcpmf with $1 extras.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "tcpmf needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
stamp=".venv/.installed-$1"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# Reinstall when pyproject.toml changed since the last install of these extras.
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing tcpmf[$1] into .venv (first run only) ..." >&2
  log=".venv/install-$1.log"
  # Build-tool chatter goes to the log; it is shown only when the install fails.
  if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip \
         && .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$1]"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "installing tcpmf[$1] failed (log: $log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
