"""Checks that the runtime packages of the engine are importable before anything imports them, so a
Python without them (SIMPLERL_PYTHON pointing at a CUDA PyTorch install, say) fails with one line that
says what to install instead of a traceback. Imports nothing heavy itself."""

import importlib
import os
import sys

# Import name -> pip name; versions tested with are pinned in engine/requirements.txt.
RUNTIME_PACKAGES = {"torch": "torch", "msgpack": "msgpack", "safetensors": "safetensors", "numpy": "numpy"}
MISSING_PACKAGES = "simplerl_engine: missing Python packages"
EXIT_MISSING_PACKAGES = 3


def missing_packages() -> list:
    missing = []
    for module, pip_name in RUNTIME_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(pip_name)
    return missing


def requirements_file() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")


def message(missing: list) -> str:
    others = [m for m in missing if m != "torch"]
    fixes = []
    if others:
        fixes.append(f"{sys.executable} -m pip install {' '.join(others)} "
                     f"(versions tested with: {requirements_file()})")
    if "torch" in missing:
        fixes.append("PyTorch for this machine (https://pytorch.org/get-started/locally/), "
                     "or unset SIMPLERL_PYTHON to use the project's .venv (npm run setup:python)")
    return f"{MISSING_PACKAGES} in {sys.executable}: {', '.join(missing)}. Install: " + "; ".join(fixes)


MIN_PYTHON = (3, 10)


def python_too_old(version=None):
    """The message when this Python is older than the engine supports, else None."""
    v = tuple(version if version is not None else sys.version_info)[:2]
    if v >= MIN_PYTHON:
        return None
    return (f"simplerl_engine: Python {v[0]}.{v[1]} at {sys.executable} is too old: the engine needs "
            f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer (point SIMPLERL_PYTHON at a newer one)")


def check_or_exit() -> None:
    too_old = python_too_old()
    if too_old:
        print(too_old, file=sys.stderr, flush=True)
        sys.exit(EXIT_MISSING_PACKAGES)
    missing = missing_packages()
    if missing:
        print(message(missing), file=sys.stderr, flush=True)
        sys.exit(EXIT_MISSING_PACKAGES)
