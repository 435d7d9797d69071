#!/usr/bin/env python3
"""Fails when a shared library's loadable segments are aligned to less than 16 KB.

Usage: check-elf-alignment.py [--min-align BYTES] [--allow-empty] PATH...

PATH is an ELF file, a directory (every `*.so` below it) or a zip archive (`.aar`, `.apk`,
`.aab`, `.jar`, `.zip`: every `*.so` inside). For each library the ELF header and program
headers are read (ELF32 and ELF64, either byte order) and the alignment (`p_align`) of every
`PT_LOAD` segment is compared with the minimum.

Why: Android 15+ runs on devices with 16 KB memory pages. Their loader refuses a library with a
`PT_LOAD` segment aligned to less than the page size (the app crashes or cannot load it), and
Google Play rejects new uploads that contain one. Rust libraries are linked with
`-z max-page-size=16384` (bindings/build.rs); third-party ones, such as JNA's
`libjnidispatch.so` before 5.17, may not be.

Exit status: 0 all aligned; 1 a library is misaligned, a file is not a valid ELF file, or a
path holds no library (unless --allow-empty); 2 bad usage.
"""
import argparse
import io
import os
import sys
import zipfile

from elf_info import Elf, ElfError

MIN_ALIGN = 16384
ARCHIVE_SUFFIXES = (".aar", ".apk", ".aab", ".jar", ".zip")


def check(name: str, data: bytes, min_align: int) -> bool:
    """Prints one line for the library `name` and returns whether it is aligned."""
    try:
        elf = Elf(data)
    except ElfError as error:
        print(f"FAIL {name}: {error}")
        return False
    if not elf.load_alignments:
        print(f"FAIL {name}: no PT_LOAD segment")
        return False
    bad = [(i, align) for i, align in enumerate(elf.load_alignments) if align < min_align]
    summary = f"{elf.machine}, ELF{elf.bits}, {len(elf.load_alignments)} PT_LOAD"
    if bad:
        segments = ", ".join(f"#{i} align {align}" for i, align in bad)
        print(f"FAIL {name} ({summary}): {segments} < {min_align}")
        return False
    print(f"ok   {name} ({summary}, min align {min(elf.load_alignments)})")
    return True


def is_library(name: str) -> bool:
    base = os.path.basename(name)
    return base.endswith(".so") or ".so." in base


def libraries(path: str):
    """Yields (display name, bytes) for every library that `path` names or holds."""
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for file in sorted(files):
                if is_library(file):
                    full = os.path.join(root, file)
                    with open(full, "rb") as f:
                        yield full, f.read()
    elif path.endswith(ARCHIVE_SUFFIXES):
        with zipfile.ZipFile(path) as archive:
            for entry in sorted(archive.namelist()):
                if is_library(entry):
                    yield f"{path}!/{entry}", archive.read(entry)
                elif entry.endswith(ARCHIVE_SUFFIXES):
                    # An AAR inside a zip of artifacts, an APK inside an APKS set...
                    inner = f"{path}!/{entry}"
                    with zipfile.ZipFile(io.BytesIO(archive.read(entry))) as nested:
                        for name in sorted(nested.namelist()):
                            if is_library(name):
                                yield f"{inner}!/{name}", nested.read(name)
    else:
        with open(path, "rb") as f:
            yield path, f.read()


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--min-align", type=int, default=MIN_ALIGN, metavar="BYTES")
    parser.add_argument("--allow-empty", action="store_true",
                        help="a directory or archive without libraries is not an error")
    args = parser.parse_args(argv)
    if args.min_align <= 0 or args.min_align & (args.min_align - 1):
        parser.error("--min-align must be a power of two")

    checked = failed = 0
    for path in args.paths:
        if not os.path.exists(path):
            print(f"FAIL {path}: no such file or directory")
            failed += 1
            continue
        found = 0
        try:
            for name, data in libraries(path):
                found += 1
                if not check(name, data, args.min_align):
                    failed += 1
        except (OSError, zipfile.BadZipFile) as error:
            print(f"FAIL {path}: {error}")
            failed += 1
            continue
        checked += found
        if found == 0 and not args.allow_empty:
            print(f"FAIL {path}: no shared library (*.so) found")
            failed += 1
    verdict = "all aligned" if failed == 0 else f"{failed} problem(s)"
    print(f"elf alignment: {checked} librar{'y' if checked == 1 else 'ies'} checked against "
          f"{args.min_align} bytes, {verdict}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
