"""The README's install: a fresh venv, `pip install --no-build-isolation python/`, no
package index. Reuses the build's module folder (MNEMO_BUILD_DIR, set by ctest) so that
it takes seconds; without it the test is skipped (it would compile the engine again)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not os.environ.get("MNEMO_BUILD_DIR"), reason="MNEMO_BUILD_DIR is not set")
def test_pip_installs_the_package_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)  # only what pip installed
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation",
                    str(PACKAGE)], check=True, timeout=600, env=env)
    script = (
        "import mnemo, sys\n"
        "with mnemo.Memory(sys.argv[1]) as m:\n"
        "    m.add('installed and working', user_id='u', infer=False)\n"
        "    print(m.search('working', user_id='u')['results'][0]['memory'])\n"
        "print(mnemo.__file__)\n")
    out = subprocess.run([str(python), "-c", script, str(tmp_path / "data")], check=True,
                         capture_output=True, text=True, timeout=120, env=env,
                         cwd=str(tmp_path)).stdout.splitlines()
    assert out[0] == "installed and working"
    assert out[1].startswith(str(venv))  # the installed copy, not the source tree
    typed = subprocess.run([str(python), "-c", "import importlib.resources as r, mnemo; "
                            "print((r.files('mnemo') / 'py.typed').is_file())"],
                           check=True, capture_output=True, text=True, env=env,
                           cwd=str(tmp_path)).stdout.strip()
    assert typed == "True"
