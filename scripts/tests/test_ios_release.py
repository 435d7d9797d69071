"""ios/scripts/release-package.sh without Xcode: with a stand-in XCFramework (a directory
with an Info.plist) it zips, computes SwiftPM's checksum (the SHA-256 of the zip) and writes
the release package, whose Package.swift must parse as Swift and declare what the development
manifest declares, with the binary target by URL and checksum."""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
import zipfile

from support import REPO

SCRIPT = os.path.join(REPO, "ios", "scripts", "release-package.sh")
URL_BASE = "https://downloads.example.com/twostep/"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ReleasePackage(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ios-release-")
        self.xcframework = os.path.join(self.dir, "in", "TwostepFFIC.xcframework")
        slice_dir = os.path.join(self.xcframework, "ios-arm64")
        os.makedirs(slice_dir)
        with open(os.path.join(self.xcframework, "Info.plist"), "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n')
        with open(os.path.join(slice_dir, "libtwostep_ffi.a"), "wb") as f:
            f.write(b"!<arch>\n")
        self.bindings = os.path.join(self.dir, "in", "TwostepFFI.swift")
        with open(self.bindings, "w") as f:
            f.write("#if canImport(TwostepFFIC)\nimport TwostepFFIC\n#endif\n")
        self.out = os.path.join(self.dir, "out")
        self.dev_manifest = read(os.path.join(REPO, "ios", "Package.swift"))
        # No `swift` here unless a test puts one on the PATH.
        self.env = dict(os.environ, PATH=os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if not os.path.exists(os.path.join(p, "swift"))))

    def tearDown(self):
        shutil.rmtree(self.dir)
        self.assertEqual(read(os.path.join(REPO, "ios", "Package.swift")), self.dev_manifest)

    def release(self, *args, env=None):
        return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True,
                              env=env or self.env, cwd=self.dir)

    def release_from_framework(self, env=None):
        return self.release("--version", "1.4.0", "--url-base", URL_BASE, "--out", self.out,
                            "--xcframework", self.xcframework, "--bindings", self.bindings, env=env)

    def test_the_framework_is_zipped_and_the_manifest_names_its_url_and_checksum(self):
        result = self.release_from_framework()
        self.assertEqual(result.returncode, 0, result.stderr)
        zip_path = os.path.join(self.out, "TwostepFFIC-1.4.0.xcframework.zip")
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
        self.assertIn("TwostepFFIC.xcframework/Info.plist", names)
        self.assertIn("TwostepFFIC.xcframework/ios-arm64/libtwostep_ffi.a", names)

        manifest = read(os.path.join(self.out, "package", "Package.swift"))
        checksum = sha256(zip_path)
        url = "https://downloads.example.com/twostep/TwostepFFIC-1.4.0.xcframework.zip"
        self.assertRegex(manifest, r'\.binaryTarget\(\s*name: "TwostepFFIC",\s*url: "' + re.escape(url)
                         + r'",\s*checksum: "' + checksum + r'"\s*\)')
        self.assertIn(f"checksum {checksum}", result.stdout)
        self.assertIn(url, result.stdout)

    def test_the_package_holds_the_bindings_and_the_wrapper_as_in_the_repository(self):
        self.assertEqual(self.release_from_framework().returncode, 0)
        package = os.path.join(self.out, "package")
        self.assertEqual(read(os.path.join(package, "Sources", "TwostepFFI", "TwostepFFI.swift")),
                         read(self.bindings))
        wrapper = os.path.join(REPO, "ios", "Sources", "TwostepKit")
        for name in os.listdir(wrapper):
            with self.subTest(name):
                self.assertEqual(read(os.path.join(package, "Sources", "TwostepKit", name)),
                                 read(os.path.join(wrapper, name)))
        self.assertIn("TwostepKit 1.4.0", read(os.path.join(package, "README.md")))

    def test_the_release_manifest_declares_what_the_development_manifest_does(self):
        self.assertEqual(self.release_from_framework().returncode, 0)
        release = read(os.path.join(self.out, "package", "Package.swift"))
        dev = self.dev_manifest
        self.assertEqual(release.splitlines()[0], dev.splitlines()[0])  # swift-tools-version
        for pattern in (r"platforms: \[[^\]]*\]", r'\.library\(name: "TwostepKit"[^)]*\)',
                        r'\.target\(name: "TwostepFFI"[^)]*\)', r'\.target\(name: "TwostepKit"[^)]*\)'):
            with self.subTest(pattern):
                self.assertEqual(re.findall(pattern, release), re.findall(pattern, dev))
                self.assertEqual(len(re.findall(pattern, release)), 1)
        self.assertNotIn("testTarget", release)
        self.assertNotIn("path: \"build/", release)

    def test_the_release_manifest_parses_as_swift(self):
        self.assertEqual(self.release_from_framework().returncode, 0)
        python = os.environ.get("TWOSTEP_SWIFT_SYNTAX_PYTHON")
        self.assertTrue(python, "set TWOSTEP_SWIFT_SYNTAX_PYTHON (scripts/test-packaging.sh does)")
        result = subprocess.run([python, os.path.join(REPO, "scripts", "swift-syntax-check.py"),
                                 os.path.join(self.out, "package", "Package.swift")],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("1 files parse without errors", result.stdout)

    def test_a_prebuilt_zip_is_used_as_is(self):
        prebuilt = os.path.join(self.dir, "prebuilt.zip")
        with zipfile.ZipFile(prebuilt, "w") as archive:
            archive.writestr("TwostepFFIC.xcframework/Info.plist", "<plist/>")
        result = self.release("--version", "2.0.0-rc.1", "--url-base", URL_BASE, "--out", self.out,
                              "--xcframework-zip", prebuilt, "--bindings", self.bindings)
        self.assertEqual(result.returncode, 0, result.stderr)
        copied = os.path.join(self.out, "TwostepFFIC-2.0.0-rc.1.xcframework.zip")
        self.assertEqual(sha256(copied), sha256(prebuilt))
        self.assertIn(f'checksum: "{sha256(prebuilt)}"',
                      read(os.path.join(self.out, "package", "Package.swift")))

    def test_swift_compute_checksum_is_used_and_must_agree_with_sha256(self):
        fake_bin = os.path.join(self.dir, "bin")
        os.makedirs(fake_bin)
        swift = os.path.join(fake_bin, "swift")
        # A stand-in for `swift package compute-checksum FILE`: sha256 of FILE, or a wrong value.
        for mode, expect in (("right", 0), ("wrong", 1)):
            with self.subTest(mode):
                with open(swift, "w") as f:
                    f.write("#!/bin/sh\n[ \"$1 $2\" = 'package compute-checksum' ] || exit 9\n")
                    if mode == "right":
                        f.write('sha256sum "$3" | cut -d" " -f1\n')
                    else:
                        f.write("echo 0000000000000000000000000000000000000000000000000000000000000000\n")
                os.chmod(swift, os.stat(swift).st_mode | stat.S_IXUSR)
                env = dict(self.env, PATH=fake_bin + os.pathsep + self.env["PATH"])
                result = self.release_from_framework(env=env)
                self.assertEqual(result.returncode, expect, result.stderr)
                if expect:
                    self.assertIn("compute-checksum says", result.stderr)

    def test_bad_inputs_are_refused_and_write_no_manifest(self):
        zip_without_plist = os.path.join(self.dir, "empty.zip")
        with zipfile.ZipFile(zip_without_plist, "w") as archive:
            archive.writestr("README", "no framework")
        base = ["--out", self.out]
        cases = {
            "plain http": (["--version", "1.0.0", "--url-base", "http://example.com", *base,
                            "--xcframework", self.xcframework, "--bindings", self.bindings], "https://"),
            "not semver": (["--version", "v1", "--url-base", URL_BASE, *base,
                            "--xcframework", self.xcframework, "--bindings", self.bindings],
                           "semantic version"),
            "no bindings": (["--version", "1.0.0", "--url-base", URL_BASE, *base,
                             "--xcframework", self.xcframework], "--bindings"),
            "both inputs": (["--version", "1.0.0", "--url-base", URL_BASE, *base, "--xcframework",
                             self.xcframework, "--xcframework-zip", zip_without_plist], "not both"),
            "zip without framework": (["--version", "1.0.0", "--url-base", URL_BASE, *base,
                                       "--xcframework-zip", zip_without_plist, "--bindings",
                                       self.bindings], "Info.plist"),
            "not a zip": (["--version", "1.0.0", "--url-base", URL_BASE, *base,
                           "--xcframework-zip", self.bindings, "--bindings", self.bindings],
                          "not a zip archive"),
            "not an xcframework": (["--version", "1.0.0", "--url-base", URL_BASE, *base,
                                    "--xcframework", self.dir, "--bindings", self.bindings],
                                   "not an XCFramework"),
        }
        for name, (args, message) in cases.items():
            with self.subTest(name):
                result = self.release(*args)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.out, "package", "Package.swift")))


if __name__ == "__main__":
    unittest.main()
