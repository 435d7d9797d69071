"""scripts/split-debug-symbols.py on the host-built library: the stripped copy that ships and
the symbols that stay behind still symbolicate a crash address (addr2line, as a crash
reporter would), and share the build ID that matches them."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support import REPO, host_library
from elf_info import Elf

SPLIT = os.path.join(REPO, "scripts", "split-debug-symbols.py")


@unittest.skipUnless(shutil.which("objcopy") and shutil.which("addr2line") and shutil.which("nm"),
                     "needs binutils")
class SplitDebugSymbols(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="split-")
        cls.stripped = os.path.join(cls.dir, "ship", "libtwostep_ffi.so")
        cls.debug = os.path.join(cls.dir, "symbols", "arm64-v8a", "libtwostep_ffi.so.dbg")
        cls.result = subprocess.run([sys.executable, SPLIT, host_library(), cls.stripped, cls.debug],
                                    capture_output=True, text=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def read(self, path):
        with open(path, "rb") as f:
            return Elf(f.read())

    def test_the_split_succeeds_and_reports_the_build_id(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        build_id = self.read(host_library()).build_id()
        self.assertRegex(build_id, "^[0-9a-f]{40}$")
        self.assertIn(f"build ID {build_id}", self.result.stdout)
        self.assertEqual(self.read(self.stripped).build_id(), build_id)
        self.assertEqual(self.read(self.debug).build_id(), build_id)

    def test_the_shipped_library_has_no_debug_info_and_is_smaller(self):
        sections = self.read(self.stripped).sections()
        self.assertFalse([s for s in sections if s.startswith(".debug")])
        self.assertNotIn(".symtab", sections)
        self.assertIn(".gnu_debuglink", sections)
        self.assertIn(".dynsym", sections)  # the exported FFI functions stay callable
        self.assertLess(os.path.getsize(self.stripped), os.path.getsize(host_library()) / 2)
        self.assertEqual(self.read(self.stripped).load_alignments,
                         self.read(host_library()).load_alignments)

    def test_the_symbols_resolve_an_address_in_the_shipped_library_to_a_source_line(self):
        exported = subprocess.run(["nm", "-D", "--defined-only", self.stripped], check=True,
                                  capture_output=True, text=True).stdout
        line = next(l for l in exported.splitlines()
                    if l.endswith(" uniffi_twostep_ffi_fn_func_library_version"))
        address = "0x" + line.split()[0]
        lone = os.path.join(self.dir, "lone.so")  # the shipped library, without its symbols
        shutil.copy(self.stripped, lone)
        without = subprocess.run(["addr2line", "-e", lone, address], check=True,
                                 capture_output=True, text=True).stdout
        self.assertTrue(without.startswith("??"), without)
        with_symbols = subprocess.run(["addr2line", "-f", "-e", self.debug, address], check=True,
                                      capture_output=True, text=True).stdout
        self.assertIn("library_version", with_symbols)
        self.assertRegex(with_symbols, r"bindings/src/\w+\.rs:\d+")

    def test_a_library_without_line_tables_is_refused(self):
        bare = os.path.join(self.dir, "bare.so")
        subprocess.run(["objcopy", "--strip-debug", host_library(), bare], check=True)
        result = subprocess.run([sys.executable, SPLIT, bare, bare + ".out", bare + ".dbg"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no line tables", result.stderr)
        self.assertFalse(os.path.exists(bare + ".out"))


if __name__ == "__main__":
    unittest.main()
