"""The installed package, as pip put it in the venv: the wheel's rtail binary on the venv's PATH,
the module from site-packages (not this source tree), py.typed, the pytest plugin's entry point.

tests/it/python.rs runs this suite against the wheel installed into a fresh venv; to run it by
hand, install the package (pip install ./python) and run pytest from outside python/.
"""

import importlib.metadata
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import rtail

SOURCE = Path(__file__).resolve().parents[1]  # python/
CARGO_TOML = SOURCE.parent / "Cargo.toml"


def cargo_version() -> str:
    """The version in Cargo.toml's [package] table."""
    text = CARGO_TOML.read_text(encoding="utf-8")
    package = re.search(r"^\[package\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert package, f"no [package] in {CARGO_TOML}"
    m = re.search(r'^version\s*=\s*"([^"]+)"', package.group(1), re.M)
    assert m, f"no version in {CARGO_TOML}'s [package]"
    return m.group(1)


def dist_files() -> "set[Path]":
    """Every file the installed distribution's RECORD lists, as resolved paths."""
    files = importlib.metadata.files("rtail")
    assert files, "the rtail distribution lists no files"
    return {Path(str(f.locate())).resolve() for f in files}


def installed_rtail() -> Path:
    found = shutil.which("rtail")
    assert found, f"no rtail on PATH ({os.environ.get('PATH')})"
    return Path(found)


def test_rtail_on_path_is_the_wheels_binary_next_to_the_interpreter():
    found = installed_rtail()
    assert found.parent == Path(sys.executable).parent, (found, sys.executable)
    assert found.parent == Path(sysconfig.get_path("scripts")), (found, sysconfig.get_path("scripts"))
    assert found.resolve() in dist_files(), f"{found} is not a file of the installed rtail distribution"
    assert os.access(str(found), os.X_OK)


def test_rtail_version_is_cargos():
    out = subprocess.run(
        [str(installed_rtail()), "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.splitlines()[0] == f"rtail {cargo_version()}", out.stdout
    if "-" not in cargo_version():  # a pre-release is spelled the PEP 440 way in the wheel
        assert importlib.metadata.version("rtail") == cargo_version()


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64" and platform.libc_ver()[0] == "glibc"),
    reason="the binary is static only on x86-64 glibc Linux (README.md, Install)",
)
@pytest.mark.skipif(
    "RUSTC_WORKSPACE_WRAPPER" in os.environ,
    reason="RUSTC_WORKSPACE_WRAPPER replaces .cargo/rustc-static, which makes the binary static",
)
def test_rtail_binary_is_static_and_position_dependent():
    """What `file` calls `statically linked` and `executable` (not `pie executable`): no
    program interpreter, no dynamic section, ELF type EXEC."""
    data = installed_rtail().resolve().read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    (e_type,) = struct.unpack_from("<H", data, 16)
    (e_phoff,) = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    types = [struct.unpack_from("<I", data, e_phoff + i * e_phentsize)[0] for i in range(e_phnum)]
    pt_dynamic, pt_interp, et_exec = 2, 3, 2
    assert pt_interp not in types, "the binary has a program interpreter: it is dynamically linked"
    assert pt_dynamic not in types, "the binary has a dynamic section"
    assert e_type == et_exec, f"ELF type {e_type}, not EXEC (2): position-independent"


def test_import_rtail_is_the_installed_package_not_the_source_tree():
    module = Path(rtail.__file__).resolve()
    site = {Path(sysconfig.get_path(k)).resolve() for k in ("purelib", "platlib")}
    assert module.parent.parent in site, f"rtail imported from {module}, not from {site}"
    assert SOURCE not in module.parents, f"rtail imported from the source tree: {module}"
    assert module in dist_files()


def test_py_typed_is_installed():
    typed = Path(rtail.__file__).resolve().parent / "py.typed"
    assert typed.is_file()
    assert typed in dist_files()


def test_metadata_python_39_and_no_dependencies():
    meta = importlib.metadata.metadata("rtail")
    assert meta["Requires-Python"] == ">=3.9"
    assert not importlib.metadata.requires("rtail")


def test_pytest_plugin_entry_point_is_registered_and_loaded(pytestconfig):
    eps = [ep for ep in importlib.metadata.distribution("rtail").entry_points if ep.group == "pytest11"]
    assert [(ep.name, ep.value) for ep in eps] == [("rtail", "rtail.pytest_plugin")]
    assert pytestconfig.pluginmanager.has_plugin("rtail"), "pytest did not load the rtail plugin"
