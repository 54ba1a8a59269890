"""A Python without the engine's runtime packages (SIMPLERL_PYTHON pointing at a CUDA PyTorch install
without msgpack, say) fails at start with one line naming what is missing and how to install it."""

import os
import subprocess
import sys

ENGINE_DIR = os.path.join(os.path.dirname(__file__), "..")


def run_engine_without(tmp_path, modules):
    # Shadow modules that fail to import, as when they are not installed.
    for m in modules:
        (tmp_path / f"{m}.py").write_text(f"raise ModuleNotFoundError(\"No module named '{m}'\", name='{m}')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ENGINE_DIR]))
    return subprocess.run(
        [sys.executable, "-m", "simplerl_engine", "--socket", str(tmp_path / "s.sock"), "--device", "cpu"],
        env=env, capture_output=True, text=True, timeout=120,
    )


def test_missing_msgpack_names_the_package_and_the_install_command(tmp_path):
    from simplerl_engine.requirements import EXIT_MISSING_PACKAGES, MISSING_PACKAGES

    r = run_engine_without(tmp_path, ["msgpack"])
    assert r.returncode == EXIT_MISSING_PACKAGES, r.stderr
    assert r.stdout == ""
    assert f"{MISSING_PACKAGES} in {sys.executable}: msgpack. Install: {sys.executable} -m pip install msgpack" in r.stderr
    assert "requirements.txt" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_torch_and_safetensors_are_both_named(tmp_path):
    r = run_engine_without(tmp_path, ["torch", "safetensors"])
    assert "Traceback" not in r.stderr
    assert "missing Python packages" in r.stderr and ": torch, safetensors." in r.stderr
    assert "-m pip install safetensors" in r.stderr and "pytorch.org" in r.stderr


def test_python_older_than_3_10_is_refused_with_its_version():
    from simplerl_engine.requirements import python_too_old

    assert python_too_old((3, 10, 0)) is None and python_too_old((3, 12, 1)) is None
    msg = python_too_old((3, 9, 18))
    assert "Python 3.9" in msg and "needs 3.10 or newer" in msg and "SIMPLERL_PYTHON" in msg
