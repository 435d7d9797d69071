"""The Android Gradle build's files, checked without Gradle (no Android SDK, Google Maven or
Maven Central here): versions pinned once and consistent with each other and with what the JVM
tests run, the 16 KB and R8 requirements in place, the publication complete."""
import io
import json
import os
import re
import subprocess
import tomllib
import unittest
import zipfile

from support import REPO

ANDROID = os.path.join(REPO, "android")

# Google's compatibility tables (Android Gradle plugin release notes): the minimum Gradle
# version of each AGP minor. AGP 9.x defaults to NDK 28.2.13676358 and needs JDK 17.
AGP_MIN_GRADLE = {"9.0": "9.1.0", "9.1": "9.3.1", "9.2": "9.4.1", "9.3": "9.5.0"}
# The first AGP whose bundled R8 reads each Kotlin metadata version ("AGP, D8, and R8 versions
# required for Kotlin versions"): what an app consuming the AAR needs.
KOTLIN_MIN_AGP = {"2.1": "8.6", "2.2": "8.10", "2.3": "8.13.2"}


def read(*parts) -> str:
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return f.read()


def version(text: str):
    return tuple(int(p) for p in re.findall(r"\d+", text))


class VersionCatalog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ANDROID, "gradle", "libs.versions.toml"), "rb") as f:
            cls.catalog = tomllib.load(f)
        cls.versions = cls.catalog["versions"]
        cls.scripts = {name: read("android", name)
                       for name in ("build.gradle.kts", "settings.gradle.kts",
                                    os.path.join("for-unit-tests", "build.gradle.kts"))}

    def test_every_catalog_reference_in_the_build_exists(self):
        libraries = {k.replace("-", ".").replace("_", ".") for k in self.catalog["libraries"]}
        plugins = {k.replace("-", ".").replace("_", ".") for k in self.catalog["plugins"]}
        for name, script in self.scripts.items():
            code = re.sub(r"//.*", "", script)  # comments name the catalog file
            for found in re.findall(r"\blibs\.([A-Za-z][\w.]*[A-Za-z0-9])", code):
                ref = re.sub(r"\.(get|map|orNull)$", "", found)  # provider calls
                with self.subTest(script=name, ref=ref):
                    if ref.startswith("versions."):
                        self.assertIn(ref.removeprefix("versions."), self.versions)
                    elif ref.startswith("plugins."):
                        self.assertIn(ref.removeprefix("plugins."), plugins)
                    else:
                        self.assertIn(ref, libraries)

    def test_no_version_is_written_outside_the_catalog(self):
        coordinate = re.compile(r'"[\w.-]+:[\w.-]+:\d[^"]*"')        # "group:artifact:1.2.3"
        plugin_version = re.compile(r'\)\s*version\s*"')              # id("...") version "1.2"
        for name, script in self.scripts.items():
            with self.subTest(script=name):
                self.assertEqual(coordinate.findall(script), [])
                self.assertIsNone(plugin_version.search(script))

    def test_the_kotlin_gradle_plugin_is_the_compiler_the_jvm_tests_use(self):
        pinned = re.search(r"^KOTLIN_COMPILER_VERSION=(\S+)", read("scripts", "tool-versions.sh"),
                           re.M).group(1)
        self.assertEqual(self.versions["kotlin"], pinned)
        self.assertIn("classpath(libs.kotlin.gradle.plugin)", self.scripts["build.gradle.kts"])

    def test_the_aar_targets_the_previous_kotlin_minor(self):
        major, minor = version(self.versions["kotlin"])[:2]
        api = self.versions["kotlinApi"]
        self.assertEqual(api, f"{major}.{minor - 1}")
        self.assertTrue(self.versions["kotlinCoreLibraries"].startswith(api + "."))
        build = self.scripts["build.gradle.kts"]
        self.assertIn("apiVersion.set(KotlinVersion.fromVersion(libs.versions.kotlinApi.get()))", build)
        self.assertIn("languageVersion.set(KotlinVersion.fromVersion(libs.versions.kotlinApi.get()))", build)
        self.assertIn("coreLibrariesVersion = libs.versions.kotlinCoreLibraries.get()", build)
        # The JVM tests compile at that version too, and the README names the AGP apps need.
        self.assertIn('-language-version "$KOTLIN_API" -api-version "$KOTLIN_API"',
                      read("scripts", "test-kotlin.sh"))
        self.assertTrue(f"AGP {KOTLIN_MIN_AGP[api]}" in read("android", "README.md"),
                        f"android/README.md names AGP {KOTLIN_MIN_AGP[api]} for consumers")

    def test_agp_gradle_and_ndk_fit_together(self):
        agp = self.versions["agp"]
        minor = ".".join(agp.split(".")[:2])
        self.assertIn(minor, AGP_MIN_GRADLE, f"add AGP {minor}'s minimum Gradle to this test")
        self.assertGreaterEqual(version(self.versions["gradle"]), version(AGP_MIN_GRADLE[minor]))
        self.assertRegex(self.versions["ndk"], r"^\d+\.\d+\.\d+$")
        self.assertGreaterEqual(version(self.versions["ndk"])[0], 28)  # r28+: 16 KB by default
        build = self.scripts["build.gradle.kts"]
        self.assertIn("ndkVersion = libs.versions.ndk.get()", build)
        # cargo-ndk gets the pinned NDK, not whatever ANDROID_NDK_HOME says.
        self.assertIn("ndkDirectory.set(androidComponents.sdkComponents.ndkDirectory)", build)
        self.assertIn('environment("ANDROID_NDK_HOME", ndk.path)', build)
        readme = read("android", "README.md")
        for key in ("agp", "gradle", "ndk", "kotlin", "jna"):
            with self.subTest(key=key):
                self.assertTrue(self.versions[key] in readme,
                                f"android/README.md names {key} {self.versions[key]}")

    def test_jna_is_the_16_kb_aar(self):
        self.assertGreaterEqual(version(self.versions["jna"]), (5, 17))
        build = self.scripts["build.gradle.kts"]
        self.assertIn('implementation("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")', build)
        self.assertIn("checkJnaAlignment", build)


class NativeBuild(unittest.TestCase):
    build = read("android", "build.gradle.kts")

    def test_release_builds_four_abis_with_the_mobile_profile_and_debug_one_with_dev(self):
        for abi, triple in (("arm64-v8a", "aarch64-linux-android"),
                            ("armeabi-v7a", "armv7-linux-androideabi"),
                            ("x86_64", "x86_64-linux-android"), ("x86", "i686-linux-android")):
            self.assertIn(f'"{abi}" to "{triple}"', self.build)
        self.assertIn('profile.set(if (release) "mobile" else', self.build)
        self.assertIn('getOrElse("dev")', self.build)
        self.assertIn("abis.set(if (release) androidRustTargets.keys.toList() else debugAbis)",
                      self.build)
        self.assertIn("splitSymbols.set(release)", self.build)
        self.assertIn("android.injected.build.abi", self.build)

    def test_the_mobile_profile_keeps_unwinding_and_line_tables(self):
        with open(os.path.join(REPO, "Cargo.toml"), "rb") as f:
            mobile = tomllib.load(f)["profile"]["mobile"]
        self.assertEqual(mobile["panic"], "unwind")
        self.assertEqual(mobile["debug"], "line-tables-only")
        self.assertFalse(mobile["strip"])  # scripts/split-debug-symbols.py strips

    def test_the_cargo_target_dir_is_honoured(self):
        self.assertIn('providers.environmentVariable("CARGO_TARGET_DIR")', self.build)
        self.assertNotIn('"target/debug', self.build)
        self.assertIn('rootProject.extra["twostep.cargoTargetDir"]',
                      read("android", "for-unit-tests", "build.gradle.kts"))

    def test_the_rust_library_links_16_kb_aligned_on_elf_targets(self):
        build_rs = read("bindings", "build.rs")
        self.assertIn("cargo::rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384", build_rs)
        self.assertIn('"android" | "linux"', build_rs)
        self.assertIn("scripts/check-elf-alignment.py", self.build)

    def test_symbols_are_published_for_the_release_build(self):
        self.assertIn("scripts/split-debug-symbols.py", self.build)
        self.assertIn('archiveClassifier.set("symbols")', self.build)
        self.assertIn('classifier = "symbols"', self.build)
        self.assertIn("libtwostep_ffi.so.dbg", self.build)


class ConsumerRules(unittest.TestCase):
    rules = read("android", "consumer-rules.pro")

    def test_the_rules_ship_with_the_aar(self):
        self.assertIn('consumerProguardFiles("consumer-rules.pro")', read("android", "build.gradle.kts"))

    def test_attributes_jna_and_uniffi_reflection_needs_are_kept(self):
        line = next(l for l in self.rules.splitlines() if l.startswith("-keepattributes"))
        kept = set(line.split(None, 1)[1].split(","))
        self.assertLessEqual({"Signature", "*Annotation*", "InnerClasses", "EnclosingMethod"}, kept)
        self.assertIn("-keep class com.sun.jna.** { *; }", self.rules)
        self.assertIn("-keep class * implements com.sun.jna.** { *; }", self.rules)
        self.assertIn("-dontwarn java.awt.**", self.rules)

    def test_the_generated_package_is_kept(self):
        with open(os.path.join(REPO, "bindings", "uniffi.toml"), "rb") as f:
            package = tomllib.load(f)["bindings"]["kotlin"]["package_name"]
        self.assertIn(f"-keep class {package}.** {{ *; }}", self.rules)


class PlatformTls(unittest.TestCase):
    """The Android half of the core's TLS verifier: the AAR Cargo.lock pins, found where
    settings.gradle.kts looks, kept from R8, and the JNI entry point that initialises it."""

    def test_the_verifier_aar_is_the_one_cargo_lock_pins_and_holds_what_the_library_calls(self):
        with open(os.path.join(REPO, "Cargo.lock"), "rb") as f:
            locked = {p["name"]: p["version"] for p in tomllib.load(f)["package"]}
        with open(os.path.join(ANDROID, "gradle", "libs.versions.toml"), "rb") as f:
            pinned = tomllib.load(f)["versions"]["rustlsPlatformVerifier"]
        self.assertEqual(pinned, locked["rustls-platform-verifier-android"])
        # What settings.gradle.kts runs to find the crate's local Maven repository.
        metadata = json.loads(subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform",
             "aarch64-linux-android", "--manifest-path", "bindings/Cargo.toml"],
            cwd=REPO, check=True, capture_output=True, text=True).stdout)
        manifest = next(p["manifest_path"] for p in metadata["packages"]
                        if p["name"] == "rustls-platform-verifier-android")
        self.assertIn('"rustls-platform-verifier-android"', read("android", "settings.gradle.kts"))
        aar = os.path.join(os.path.dirname(manifest), "maven", "rustls", "rustls-platform-verifier",
                           pinned, f"rustls-platform-verifier-{pinned}.aar")
        with zipfile.ZipFile(aar) as outer, zipfile.ZipFile(io.BytesIO(outer.read("classes.jar"))) as jar:
            names = jar.namelist()
        # The classes the Rust verifier looks up by name (rustls-platform-verifier's android.rs).
        for cls in ("CertificateVerifier", "VerificationResult", "StatusCode"):
            self.assertIn(f"org/rustls/platformverifier/{cls}.class", names)
        self.assertIn("-keep, includedescriptorclasses class org.rustls.platformverifier.** { *; }",
                      read("android", "consumer-rules.pro"))
        self.assertIn("implementation(libs.rustls.platform.verifier)", read("android", "build.gradle.kts"))

    def test_the_jni_entry_point_matches_its_kotlin_declaration(self):
        rust = read("bindings", "src", "android.rs")
        kotlin = read("android", "src", "android", "kotlin", "io", "twostep", "android", "PlatformTls.kt")
        package = re.search(r"^package ([\w.]+)", kotlin, re.M).group(1)
        holder = re.search(r"^object (\w+)", kotlin, re.M).group(1)
        method = re.search(r"external fun (\w+)\(context: Context\)", kotlin).group(1)
        symbol = "Java_" + package.replace(".", "_") + f"_{holder}_{method}"
        self.assertIn(f"pub extern \"system\" fn {symbol}", rust)
        self.assertIn("@JvmStatic", kotlin)
        self.assertIn('System.loadLibrary("twostep_ffi")', kotlin)
        self.assertIn(f"-keepclasseswithmembernames class {package}.{holder} {{ native <methods>; }}",
                      read("android", "consumer-rules.pro"))
        # TwostepAndroid.open initialises it before anything can connect.
        self.assertIn("PlatformTls.init(context)",
                      read("android", "src", "android", "kotlin", "io", "twostep", "android", "TwostepAndroid.kt"))


class Publication(unittest.TestCase):
    build = read("android", "build.gradle.kts")
    unit_tests = read("android", "for-unit-tests", "build.gradle.kts")

    def test_the_aar_is_published_with_sources_and_the_release_variant(self):
        self.assertIn("`maven-publish`", self.build)
        self.assertIn('singleVariant("release") { withSourcesJar() }', self.build)
        self.assertIn('from(components["release"])', self.build)
        self.assertIn('artifactId = "twostep-android"', self.build)
        self.assertIn('group = "io.twostep"', self.build)

    def test_the_pom_names_the_workspace_license_and_the_scm(self):
        with open(os.path.join(REPO, "Cargo.toml"), "rb") as f:
            workspace = tomllib.load(f)["workspace"]["package"]
        self.assertIn(f'name.set("{workspace["license"]}")', self.build)
        for field in ("POM_SCM_URL", "POM_SCM_CONNECTION", "POM_SCM_DEV_CONNECTION", "POM_URL"):
            self.assertIn(f'gradleProperty("{field}")', self.build)

    def test_the_version_comes_from_the_rust_workspace(self):
        pattern = re.search(r'Regex\("""(.+?)"""\)', self.build).group(1)
        found = re.search(pattern, read("Cargo.toml")).group(1)
        with open(os.path.join(REPO, "Cargo.toml"), "rb") as f:
            self.assertEqual(found, tomllib.load(f)["workspace"]["package"]["version"])

    def test_the_for_unit_tests_jar_uses_jna_resource_paths_like_the_jvm_tests(self):
        self.assertIn('include(":for-unit-tests")', read("android", "settings.gradle.kts"))
        self.assertIn('artifactId = "twostep-android-forUnitTests"', self.unit_tests)
        self.assertIn('"amd64", "x86_64" -> "x86-64"', self.unit_tests)
        self.assertIn('else -> "linux-$arch"', self.unit_tests)
        self.assertIn("api(libs.jna)", self.unit_tests)
        # scripts/test-kotlin.sh loads the library from a jar of the same layout.
        self.assertIn('"$OUT/for-unit-tests/linux-$ARCH"', read("scripts", "test-kotlin.sh"))


if __name__ == "__main__":
    unittest.main()
