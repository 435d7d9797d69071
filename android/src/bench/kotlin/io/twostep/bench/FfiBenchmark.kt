package io.twostep.bench

import io.twostep.MemoryKeyStore
import io.twostep.ffi.Twostep
import io.twostep.ffi.TwostepConfig
import io.twostep.ffi.benchAsyncNoop
import io.twostep.ffi.benchNoop
import io.twostep.ffi.benchRows
import io.twostep.ffi.benchSeedSignedInState
import io.twostep.ffi.libraryVersion
import kotlinx.coroutines.runBlocking
import java.nio.file.Files

/**
 * The cost of crossing the FFI from Kotlin (JNA), measured on the desktop JVM against the
 * size-optimized library (`--profile mobile --features bench`). Not a test: run it with
 * `scripts/bench-kotlin.sh`. Each measurement warms up first (JIT, JNA's method lookups,
 * the library's caches), then takes the median (and p90) over many samples.
 */
fun main(): Unit = runBlocking {
    println("| call (Kotlin -> Rust, JNA, JVM ${System.getProperty("java.version")}) | median | p90 | best |")
    println("|---|---|---|---|")

    // The floor: a number in, a number out (still a call-status structure per call).
    var n = 0u
    report("`benchNoop(n)`: one call, a number in and out", perCall(batch = 1_000) { benchNoop(n++) })

    // The floor of a suspend call: to the library's runtime and back.
    report("`benchAsyncNoop(n)`: one suspend call, through the library's runtime", perCall(batch = 100) { benchAsyncNoop(n++) })

    // One FFI call: a string back, nothing else.
    report("`libraryVersion()`: one call, a short string back", perCall(batch = 1_000) { libraryVersion() })

    // Lifting a list of records: synthetic rows shaped like an authenticator code list.
    for (count in listOf(1, 100, 1_000)) {
        report("`benchRows($count)`: one call, a list of $count records", perCall(batch = maxOf(1, 1_000 / count)) { benchRows(count.toUInt()) })
    }

    val keyStore = MemoryKeyStore()

    // The launch screen: everything local in one call, on a signed-in registered state.
    val launchDir = Files.createTempDirectory("twostep-bench-").toFile()
    benchSeedSignedInState(launchDir.path, keyStore)
    Twostep.open(TwostepConfig(dataDir = launchDir.path, serverUrl = "http://127.0.0.1:9"), keyStore).use { app ->
        check(app.status().registration != null)
        report("`status()` (signed in): registration, session, policy, passcode", perCall(batch = 100) { app.status() })
    }

    // The authenticator screen: every account with its current and next code, one call.
    for (count in listOf(100, 1_000)) {
        val dir = Files.createTempDirectory("twostep-bench-").toFile()
        Twostep.open(TwostepConfig(dataDir = dir.path, serverUrl = "http://127.0.0.1:9"), keyStore).use { app ->
            app.authenticator().use { authenticator ->
                repeat(count) { i ->
                    authenticator.addUri("otpauth://totp/Issuer%20$i:user$i@example.com?secret=JBSWY3DPEHPK3PXP${uniqueBase32(i)}&issuer=Issuer%20$i")
                }
                check(authenticator.codes().codes.size == count)
                report("`authenticator().codes()`: $count accounts with codes", perCall(batch = 1) { authenticator.codes() })
            }
        }
        dir.deleteRecursively()
    }
    launchDir.deleteRecursively()
}

/** Four base32 characters unique to [i] (< 2^20): the vault refuses a secret twice. */
private fun uniqueBase32(i: Int): String = (0 until 4).map { "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(i shr (5 * it)) and 31] }.joinToString("")

private class Timing(val medianNs: Double, val p90Ns: Double, val bestNs: Double)

/**
 * Warms up for ~1 s, then times 200 samples of [batch] calls each (or at least ~2 s of
 * samples) and returns the per-call median, p90 and best sample.
 */
private inline fun perCall(batch: Int, call: () -> Any?): Timing {
    var sink = 0
    val warmUntil = System.nanoTime() + 1_000_000_000L
    while (System.nanoTime() < warmUntil) repeat(batch) { sink += call().hashCode() and 1 }
    val samples = ArrayList<Double>()
    val measureUntil = System.nanoTime() + 2_000_000_000L
    while (samples.size < 200 || (System.nanoTime() < measureUntil && samples.size < 5_000)) {
        val start = System.nanoTime()
        repeat(batch) { sink += call().hashCode() and 1 }
        samples.add((System.nanoTime() - start).toDouble() / batch)
    }
    if (sink == -1) println()
    samples.sort()
    return Timing(samples[samples.size / 2], samples[samples.size * 9 / 10], samples[0])
}

private fun format(ns: Double): String = when {
    ns >= 1_000_000 -> "%.2f ms".format(ns / 1_000_000)
    ns >= 1_000 -> "%.1f µs".format(ns / 1_000)
    else -> "%.0f ns".format(ns)
}

private fun report(what: String, timing: Timing) {
    println("| $what | **${format(timing.medianNs)}** | ${format(timing.p90Ns)} | ${format(timing.bestNs)} |")
}
