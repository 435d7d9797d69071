// io.twostep:twostep-android-forUnitTests: the twostep native library for the desktop JVM, so
// that app teams' JVM unit tests (src/test, Robolectric) can load it. The AAR's
// libtwostep_ffi.so files are Android builds that a desktop JVM cannot load; this jar carries
// host builds in JNA's resource layout (`<os>-<arch>/libtwostep_ffi.<so|dylib>`, which JNA
// finds on the classpath and extracts) and brings desktop JNA (whose jar has the desktop
// libjnidispatch). The Kotlin classes come from the AAR. In an app:
//
//   dependencies {
//       implementation("io.twostep:twostep-android:VERSION")
//       testImplementation("io.twostep:twostep-android-forUnitTests:VERSION")
//   }
//   android { testOptions { unitTests.isReturnDefaultValues = true } }
//
// This machine's library is built here (release profile). A release's jar should carry every
// desktop platform the app teams develop on (linux-x86-64, darwin-aarch64, darwin-x86-64,
// win32-x86-64): build each on a machine of that kind and pass them in the same layout with
// `-Ptwostep.hostLibrariesDir=DIR`. scripts/test-kotlin.sh runs the JVM tests against a jar of
// this layout.
plugins {
    `java-library`
    `maven-publish`
}

val repoRoot = rootProject.extra["twostep.repoRoot"] as File
val cargoTargetDir = rootProject.extra["twostep.cargoTargetDir"] as File

/** JNA's resource prefix for this machine (`com.sun.jna.Platform.RESOURCE_PREFIX`). */
val jnaPrefix: String = run {
    val os = System.getProperty("os.name")
    val arch = when (val name = System.getProperty("os.arch")) {
        "amd64", "x86_64" -> "x86-64"
        "aarch64", "arm64" -> "aarch64"
        else -> name
    }
    when {
        os.startsWith("Mac") -> "darwin-$arch"
        os.startsWith("Windows") -> "win32-$arch"
        else -> "linux-$arch"
    }
}
val libraryFile = when {
    jnaPrefix.startsWith("darwin") -> "libtwostep_ffi.dylib"
    jnaPrefix.startsWith("win32") -> "twostep_ffi.dll"
    else -> "libtwostep_ffi.so"
}

val cargoHostRelease by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libtwostep_ffi for this machine (release profile, cdylib only)"
    workingDir = repoRoot
    environment("CARGO_TARGET_DIR", cargoTargetDir.path)
    commandLine("cargo", "rustc", "--locked", "--release", "-p", "twostep-ffi", "--lib", "--crate-type", "cdylib")
    outputs.file(File(cargoTargetDir, "release/$libraryFile"))
    outputs.upToDateWhen { false } // cargo knows what is up to date
}

val hostLibraries by tasks.registering(Sync::class) {
    description = "Lays out the host libraries as JNA resources"
    into(layout.buildDirectory.dir("host-libraries"))
    from(cargoHostRelease) { into(jnaPrefix) }
    providers.gradleProperty("twostep.hostLibrariesDir").orNull?.let { from(it) }
}

sourceSets.main { resources.srcDir(hostLibraries) }

java {
    withSourcesJar()
    withJavadocJar()
}

dependencies {
    api(libs.jna) // the desktop jar: libjnidispatch for Linux, macOS and Windows
}

publishing {
    publications {
        register<MavenPublication>("forUnitTests") {
            artifactId = "twostep-android-forUnitTests"
            from(components["java"])
        }
    }
}
