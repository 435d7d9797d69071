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

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "twostep-android"
include(":for-unit-tests")
