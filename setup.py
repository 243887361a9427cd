"""Build hooks: only what [project] cannot express.

- the cffi extension (csrc/build_ffi.py);
- its flags in the dialect of the compiler that actually runs (MSVC's /flags, or
  GCC/Clang's -flags: mingw-w64 on Windows is a GCC), not guessed from the platform;
- the abi3 wheel tag: the module uses only the limited API (cffi's default), so one
  wheel serves every CPython >= 3.11 (free-threaded builds have no limited API);
- ``nestprobe/_bytecode.bin``: every module compiled into one file by the building
  interpreter (nestprobe/bytecode.py: the cold start without ~65 path searches; not for
  an editable install, whose sources change under it);
- the ``nestprobe`` command: on POSIX the plain script ``scripts/nestprobe`` (pip's
  entry-point wrapper imports ``re`` first: scripts/nestprobe says why that matters), on
  Windows the entry point, whose ``nestprobe.exe`` launcher pip writes.
"""

import re
import runpy
import sys
import sysconfig
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

BUILD_FFI = Path(__file__).resolve().parent / "csrc" / "build_ffi.py"


class build_ext_per_compiler(build_ext):  # noqa: N801  (setuptools command naming)
    def build_extensions(self) -> None:
        flags = runpy.run_path(str(BUILD_FFI))["compile_args"](self.compiler.compiler_type)
        for ext in self.extensions:
            ext.extra_compile_args = [*flags, *(ext.extra_compile_args or [])]
        super().build_extensions()


#: The modules ``nestprobe check`` imports (the cold-start allowlist the tests keep true):
#: the bytecode file also holds their code in one piece (nestprobe/bytecode.py).
CHECK_MODULES = Path(__file__).resolve().parent / "tests" / "cli" / "cold_start_modules.txt"


def check_modules() -> list[str]:
    """The allowlist's nestprobe modules; none from a tree without it (every module is then
    read on its own, as before)."""
    if not CHECK_MODULES.is_file():
        return []
    lines = CHECK_MODULES.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.startswith("nestprobe.")]


class build_py_with_bytecode(build_py):  # noqa: N801  (setuptools command naming)
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # setuptools >= 64 sets it
            return
        package = Path(self.build_lib) / "nestprobe"
        bytecode = runpy.run_path(str(package / "bytecode.py"))
        # The RECORD pip and uv write last (nestprobe/bytecode.py: when the install was).
        name = re.sub(r"[-_.]+", "_", self.distribution.get_name()).lower()
        record = f"{name}-{self.distribution.get_version()}.dist-info/RECORD"
        bytecode["build"](str(package), record, together=check_modules())
        self.bytecode_file = str(package / bytecode["FILE_NAME"])

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        made = getattr(self, "bytecode_file", None)
        return [*super().get_outputs(include_bytecode), *([made] if made else [])]


ENTRY_POINT = "nestprobe = nestprobe.cli:run"
COMMAND = (
    {"entry_points": {"console_scripts": [ENTRY_POINT]}} if sys.platform == "win32"
    else {"scripts": ["scripts/nestprobe"]}
)

ABI3 = {} if sysconfig.get_config_var("Py_GIL_DISABLED") else {"py_limited_api": "cp311"}

setup(
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
    cmdclass={"build_ext": build_ext_per_compiler, "build_py": build_py_with_bytecode},
    options={"bdist_wheel": ABI3},
    **COMMAND,
)
