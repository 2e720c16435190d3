"""The PEP 517 build backend of mnemo's Python package (distribution ``pymnemo``).

Standard library only, so that ``pip install python/`` works with no package index:
it builds the engine module (target ``mnemo_python`` of the repository's CMake project,
pybind11 from Debian's pybind11-dev) for the Python that runs pip, and packs it with
python/mnemo into a wheel.

Where the build happens:
* ``MNEMO_BUILD_DIR=DIR``: an existing CMake build of the repository (scripts/build.sh
  makes ``build``); only the module is (re)built there, in seconds. Its Python must be
  the same version as pip's.
* otherwise ``build/python-<tag>`` in the repository: configured once (Release, no tests
  or benchmarks) and built with every core; the first build compiles the engine (minutes).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent  # python/
ROOT = HERE.parent                      # the repository
NAME = "pymnemo"
SUMMARY = "Long-term memory for LLM agents: embedded engine and HTTP client, Mem0-compatible"


def _version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    found = re.search(r"project\(mnemo VERSION ([0-9.]+)", text)
    if not found:
        raise RuntimeError("no 'project(mnemo VERSION x.y.z' in CMakeLists.txt")
    return found.group(1)


def _tag() -> str:
    impl = "cp" if sys.implementation.name == "cpython" else sys.implementation.name[:2]
    py = f"{impl}{sys.version_info.major}{sys.version_info.minor}"
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return f"{py}-{py}{getattr(sys, 'abiflags', '')}-{platform}"


def _metadata() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {_version()}\nSummary: {SUMMARY}\n"
            "Requires-Python: >=3.9\nDescription-Content-Type: text/markdown\n\n" + readme)


def _run(cmd: List[str]) -> None:
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)


def _native_module() -> Path:
    """Builds mnemo._native for this Python and returns its path."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    given = os.environ.get("MNEMO_BUILD_DIR")
    if given:
        # pip runs this hook in python/: a relative path is the caller's (the shell's PWD),
        # else the repository's.
        bases = [Path(os.environ.get("PWD", ".")), ROOT, Path.cwd()]
        build = next((base / given for base in bases if (base / given / "CMakeCache.txt").exists()),
                     Path(given)).resolve()
        if not (build / "CMakeCache.txt").exists():
            raise RuntimeError(f"MNEMO_BUILD_DIR={given} is not a CMake build of mnemo "
                               "(scripts/build.sh makes one in build/)")
    else:
        build = ROOT / "build" / f"python-{_tag()}"
        if not (build / "CMakeCache.txt").exists():
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            _run(["cmake", "-S", str(ROOT), "-B", str(build), *generator,
                  "-DCMAKE_BUILD_TYPE=Release", "-DMNEMO_BUILD_TESTS=OFF",
                  "-DMNEMO_BUILD_BENCH=OFF", "-DMNEMO_BUILD_PYTHON=ON",
                  f"-DPython_EXECUTABLE={sys.executable}"])
    _run(["cmake", "--build", str(build), "--target", "mnemo_python", "--parallel",
          str(os.cpu_count() or 2)])
    module = build / "python" / "mnemo" / f"_native{suffix}"
    if not module.exists():
        built = sorted((build / "python" / "mnemo").glob("_native*"))
        raise RuntimeError(f"the build made {[p.name for p in built]}, not {module.name}: "
                           f"{build} was configured for another Python than {sys.executable}")
    return module


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _dist_info_files() -> Dict[str, bytes]:
    return {
        "METADATA": _metadata().encode(),
        "WHEEL": (f"Wheel-Version: 1.0\nGenerator: mnemo build_backend\nRoot-Is-Purelib: false\n"
                  f"Tag: {_tag()}\n").encode(),
        "top_level.txt": b"mnemo\n",
    }


# --- PEP 517 hooks ---------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[dict] = None) -> str:
    name = f"{NAME}-{_version()}.dist-info"
    target = Path(metadata_directory) / name
    target.mkdir(parents=True, exist_ok=True)
    for file, data in _dist_info_files().items():
        (target / file).write_bytes(data)
    return name


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    module = _native_module()
    files: Dict[str, bytes] = {}
    for path in sorted((HERE / "mnemo").iterdir()):
        if path.suffix in (".py", ".typed"):
            files[f"mnemo/{path.name}"] = path.read_bytes()
    files[f"mnemo/{module.name}"] = module.read_bytes()
    dist_info = f"{NAME}-{_version()}.dist-info"
    for file, data in _dist_info_files().items():
        files[f"{dist_info}/{file}"] = data
    wheel_name = f"{NAME}-{_version()}-{_tag()}.whl"
    record = [_record_line(name, data) for name, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
        whl.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel_name


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    raise RuntimeError("the package builds from the repository (the engine's C++ sources are "
                       "outside python/): install it with 'pip install python/' from a clone")
