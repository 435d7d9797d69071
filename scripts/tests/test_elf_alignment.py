"""scripts/check-elf-alignment.py against real libraries: ours, tiny ones gcc links at 4 KB and
16 KB, Debian's JNA 5.13 libjnidispatch.so (4 KB, the one that crashes on 16 KB devices), and
hand-made ELF32/big-endian headers for the 32-bit ABIs and byte orders gcc here cannot produce.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile

from support import REPO, host_library

CHECK = os.path.join(REPO, "scripts", "check-elf-alignment.py")
DEBIAN_JNIDISPATCH = "/usr/lib/x86_64-linux-gnu/jni/libjnidispatch.system.so"


def run_check(*args):
    return subprocess.run([sys.executable, CHECK, *args], capture_output=True, text=True)


def elf_header(bits: int, little: bool, machine: int, aligns) -> bytes:
    """A minimal ELF file: header plus one PT_LOAD per alignment (no sections)."""
    end = "<" if little else ">"
    phentsize = 56 if bits == 64 else 32
    ehsize = 64 if bits == 64 else 52
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if little else 2, 1]) + bytes(9)
    word = "Q" if bits == 64 else "I"
    header = ident + struct.pack(f"{end}HHI{word}{word}{word}IHHHHHH", 3, machine, 1, 0, ehsize, 0,
                                 0, ehsize, phentsize, len(aligns), 0, 0, 0)
    for i, align in enumerate(aligns):
        if bits == 64:
            header += struct.pack(f"{end}IIQQQQQQ", 1, 5, i * align, i * align, i * align, 16, 16, align)
        else:
            header += struct.pack(f"{end}IIIIIIII", 1, i * align, i * align, i * align, 16, 16, 5, align)
    return header


@unittest.skipUnless(shutil.which("gcc"), "needs gcc")
class CompiledLibraries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="elf-align-")
        source = os.path.join(cls.dir, "tiny.c")
        with open(source, "w") as f:
            f.write("int twostep_tiny(int x) { return x + 1; }\n")
        cls.libs = {}
        for page in (4096, 16384):
            out = os.path.join(cls.dir, f"libtiny{page}.so")
            subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-z,max-page-size={page}", "-o", out,
                            source], check=True)
            cls.libs[page] = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_a_library_linked_at_4_kb_fails_and_names_its_segments(self):
        result = run_check(self.libs[4096])
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL", result.stdout)
        self.assertIn("align 4096 < 16384", result.stdout)

    def test_a_library_linked_at_16_kb_passes(self):
        result = run_check(self.libs[16384])
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("min align 16384", result.stdout)

    def test_one_bad_library_in_a_directory_fails_the_directory(self):
        tree = os.path.join(self.dir, "jniLibs")
        for abi, page in (("arm64-v8a", 16384), ("x86_64", 4096)):
            os.makedirs(os.path.join(tree, abi), exist_ok=True)
            shutil.copy(self.libs[page], os.path.join(tree, abi, "libtiny.so"))
        result = run_check(tree)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("ok   " + os.path.join(tree, "arm64-v8a", "libtiny.so"), result.stdout)
        self.assertIn("FAIL " + os.path.join(tree, "x86_64", "libtiny.so"), result.stdout)

    def test_libraries_inside_an_aar_are_checked(self):
        good = os.path.join(self.dir, "good.aar")
        bad = os.path.join(self.dir, "bad.aar")
        for path, page in ((good, 16384), (bad, 4096)):
            classes = os.path.join(self.dir, "classes.jar")
            with zipfile.ZipFile(classes, "w") as jar:
                jar.writestr("io/twostep/Twostep.class", b"\xca\xfe\xba\xbe")
            with zipfile.ZipFile(path, "w") as aar:
                aar.write(classes, "classes.jar")
                aar.write(self.libs[page], "jni/arm64-v8a/libtiny.so")
        self.assertEqual(run_check(good).returncode, 0)
        result = run_check(bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"FAIL {bad}!/jni/arm64-v8a/libtiny.so", result.stdout)

    def test_a_lower_minimum_accepts_4_kb(self):
        self.assertEqual(run_check("--min-align", "4096", self.libs[4096]).returncode, 0)


class HostAndThirdPartyLibraries(unittest.TestCase):
    def test_the_host_built_rust_library_is_16_kb_aligned(self):
        result = run_check(host_library())
        self.assertEqual(result.returncode, 0, result.stdout)

    @unittest.skipUnless(os.path.exists(DEBIAN_JNIDISPATCH), "needs Debian's libjna-jni")
    def test_debian_jna_5_13_jnidispatch_fails(self):
        result = run_check(DEBIAN_JNIDISPATCH)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("align 4096 < 16384", result.stdout)


class HandMadeHeaders(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="elf-hand-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_elf32_arm_little_endian(self):
        good = self.write("good.so", elf_header(32, True, 40, [0x4000, 0x4000]))
        bad = self.write("bad.so", elf_header(32, True, 40, [0x4000, 0x1000]))
        self.assertIn("arm, ELF32, 2 PT_LOAD", run_check(good).stdout)
        self.assertEqual(run_check(good).returncode, 0)
        result = run_check(bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn("#1 align 4096", result.stdout)
        self.assertNotIn("#0", result.stdout)

    def test_elf64_big_endian(self):
        good = self.write("good.so", elf_header(64, False, 183, [0x10000]))
        bad = self.write("bad.so", elf_header(64, False, 183, [0x2000]))
        self.assertEqual(run_check(good).returncode, 0)
        self.assertIn("align 8192 < 16384", run_check(bad).stdout)

    def test_malformed_files_fail_with_a_reason(self):
        cases = {
            "text.so": (b"GROUP ( libc.so.6 )\n", "not an ELF file"),
            "truncated.so": (elf_header(64, True, 62, [0x4000])[:80], "truncated"),
            "noload.so": (elf_header(64, True, 62, []), "no PT_LOAD segment"),
        }
        for name, (data, reason) in cases.items():
            with self.subTest(name):
                result = run_check(self.write(name, data))
                self.assertEqual(result.returncode, 1)
                self.assertIn(reason, result.stdout)

    def test_an_empty_directory_fails_unless_allowed(self):
        empty = os.path.join(self.dir, "empty")
        os.mkdir(empty)
        self.assertIn("no shared library", run_check(empty).stdout)
        self.assertEqual(run_check("--allow-empty", empty).returncode, 0)
        self.assertEqual(run_check(os.path.join(self.dir, "missing")).returncode, 1)
        self.assertEqual(run_check("--min-align", "12000", empty).returncode, 2)


if __name__ == "__main__":
    unittest.main()
