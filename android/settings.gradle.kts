// The twostep Android build: the library (this directory, `io.twostep:twostep-android`) and
// `for-unit-tests` (`io.twostep:twostep-android-forUnitTests`, the host libraries for app
// teams' JVM unit tests). Include it in an app's build with
// `includeBuild("path/to/twostep/android")`, or publish it (README.md).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

/**
 * rustls-platform-verifier's Android half (the Kotlin the core's TLS verifier calls to ask
 * Android's trust manager) ships inside the crate `rustls-platform-verifier-android` as a
 * local Maven repository, `maven/`: found with `cargo metadata`, so it is always the copy of
 * the version Cargo.lock pins (the catalog's `rustlsPlatformVerifier` must equal it).
 */
fun rustlsPlatformVerifierRepository(): File {
    val metadata = providers.exec {
        workingDir = settingsDir.parentFile
        commandLine(
            "cargo", "metadata", "--format-version", "1", "--locked",
            "--filter-platform", "aarch64-linux-android", "--manifest-path", "bindings/Cargo.toml",
        )
    }.standardOutput.asText.get()
    @Suppress("UNCHECKED_CAST")
    val packages = (groovy.json.JsonSlurper().parseText(metadata) as Map<String, Any?>)["packages"] as List<Map<String, Any?>>
    val manifest = packages.firstOrNull { it["name"] == "rustls-platform-verifier-android" }?.get("manifest_path") as String?
        ?: error("rustls-platform-verifier-android is not in `cargo metadata` for Android")
    return File(File(manifest).parentFile, "maven")
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        maven {
            name = "rustlsPlatformVerifier"
            url = uri(rustlsPlatformVerifierRepository())
            content { includeGroup("rustls") }
        }
    }
}

rootProject.name = "twostep-android"
include(":for-unit-tests")
