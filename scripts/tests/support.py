"""Shared by the packaging tests: where the repository and the host-built library are."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))  # elf_info


def host_library() -> str:
    """The host-built libtwostep_ffi.so: `$TWOSTEP_FFI_LIBRARY`, as scripts/test-packaging.sh
    sets it after building; run through that script, or set it yourself."""
    path = os.environ.get("TWOSTEP_FFI_LIBRARY")
    if not path:
        raise AssertionError("set TWOSTEP_FFI_LIBRARY (scripts/test-packaging.sh does)")
    return path
