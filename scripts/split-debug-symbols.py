#!/usr/bin/env python3
"""Splits a shared library into the stripped library that ships and its debug symbols.

Usage: split-debug-symbols.py [--objcopy PATH] LIBRARY STRIPPED DEBUG

  objcopy --only-keep-debug LIBRARY DEBUG
  objcopy --strip-debug --strip-unneeded --add-gnu-debuglink=DEBUG LIBRARY STRIPPED

then checks the result: STRIPPED has no `.debug_*` sections and no `.symtab`, DEBUG has the line
tables, and all three files carry the same GNU build ID (how crash reporters such as Play
Console, Crashlytics or Sentry match a crash in STRIPPED to DEBUG). Android's release build
ships STRIPPED and publishes the DEBUG files as the `-symbols` artifact.

--objcopy: GNU objcopy or llvm-objcopy (the NDK's, for Android targets); default `$OBJCOPY`,
else `objcopy`.
"""
import argparse
import os
import shutil
import subprocess
import sys

from elf_info import Elf, ElfError


def read(path: str) -> Elf:
    with open(path, "rb") as f:
        return Elf(f.read())


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library")
    parser.add_argument("stripped")
    parser.add_argument("debug")
    parser.add_argument("--objcopy", default=os.environ.get("OBJCOPY", "objcopy"))
    args = parser.parse_args(argv)
    if shutil.which(args.objcopy) is None:
        print(f"split-debug-symbols: {args.objcopy} not found", file=sys.stderr)
        return 1

    try:
        original = read(args.library)
    except (OSError, ElfError) as error:
        print(f"split-debug-symbols: {args.library}: {error}", file=sys.stderr)
        return 1
    if ".debug_line" not in original.sections():
        print(f"split-debug-symbols: {args.library} has no line tables to keep: build it with "
              "debug info (the `mobile` profile has `debug = \"line-tables-only\"`)",
              file=sys.stderr)
        return 1

    for path in (args.stripped, args.debug):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    subprocess.run([args.objcopy, "--only-keep-debug", args.library, args.debug], check=True)
    subprocess.run([args.objcopy, "--strip-debug", "--strip-unneeded",
                    f"--add-gnu-debuglink={args.debug}", args.library, args.stripped], check=True)

    stripped, debug = read(args.stripped), read(args.debug)
    problems = []
    left = sorted(s for s in stripped.sections() if s.startswith(".debug") or s == ".symtab")
    if left:
        problems.append(f"{args.stripped} still has {', '.join(left)}")
    if ".gnu_debuglink" not in stripped.sections():
        problems.append(f"{args.stripped} has no .gnu_debuglink")
    if ".debug_line" not in debug.sections():
        problems.append(f"{args.debug} has no .debug_line")
    ids = {path: elf.build_id() for path, elf in
           ((args.library, original), (args.stripped, stripped), (args.debug, debug))}
    if ids[args.library] is None:
        problems.append(f"{args.library} has no GNU build ID (link with --build-id)")
    elif len(set(ids.values())) != 1:
        problems.append(f"build IDs differ: {ids}")
    if stripped.load_alignments != original.load_alignments:
        problems.append(f"segment alignment changed: {original.load_alignments} -> "
                        f"{stripped.load_alignments}")
    for problem in problems:
        print(f"split-debug-symbols: {problem}", file=sys.stderr)
    if problems:
        return 1
    sizes = {path: os.path.getsize(path) for path in (args.library, args.stripped, args.debug)}
    print(f"split {args.library} ({sizes[args.library]:,} bytes) -> {args.stripped} "
          f"({sizes[args.stripped]:,}) + {args.debug} ({sizes[args.debug]:,}), "
          f"build ID {ids[args.library]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
