// The twostep Android library as a standalone Gradle build (include it in an app's build
// with `includeBuild("path/to/twostep/android")`, or publish it as an AAR).
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
