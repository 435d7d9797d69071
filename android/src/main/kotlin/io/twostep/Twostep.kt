/**
 * The idiomatic Kotlin layer over the generated bindings (`io.twostep.ffi`).
 *
 * The generated API is already Kotlin-shaped: `suspend` functions for everything slow,
 * data classes, sealed classes for [SignInStep] and [TwostepException], `java.time.Instant`
 * for times and `java.time.Duration` for waits, `AutoCloseable` objects. The waits are
 * computed in Rust and exported (`TwostepException.retryAfter()`, `.nextAttemptAt()`,
 * `CodePrompt.resendIn(now)`, `.isExpired(now)`), and every error's text is the library's
 * (`toString()`, and `message`). This file adds only what is awkward there: opening from
 * a [File]. `CodeFlow.kt` adds the code list as a `Flow`.
 *
 * **Which calls are main-safe.** Every call that talks to the server, writes to the disk,
 * runs Argon2id or asks the key store is `suspend` and runs on the library's threads. The
 * others are synchronous and read memory only — `status()`, `passcode().state()`,
 * `passcode().lock()`, `appBackgrounded()`, `appForegrounded()`, and the authenticator's
 * `codes()`, `codesAt()`, `accounts()`, `search()`, `groups()`, `clockCorrection()` — because
 * opening the data directory (`open`, off the caller's thread) reads its whole database into
 * memory (sled reads its log when it opens and keeps the pages cached; a data dir is a few
 * KiB), and the decrypted vault stays in memory while unlocked. So they may be called on the
 * main thread (the code list for 1,000 accounts: `docs/BENCHMARKS.md`).
 */
package io.twostep

import io.twostep.ffi.ClockSource
import io.twostep.ffi.PlatformBiometricKeyStore
import io.twostep.ffi.PlatformKeyStore
import io.twostep.ffi.Twostep
import io.twostep.ffi.TwostepConfig
import io.twostep.ffi.TwostepException
import java.io.File

/**
 * Opens (creating on first use) the twostep state in [dataDir] for [serverUrl] (null: the
 * server this data dir last signed in to; the passcode and the authenticator need none).
 *
 * Runs on the library's own threads (the key store is called there, not on the caller's
 * thread), so it is safe to call from the main dispatcher. Keep the result for the life of
 * the process and [Twostep.close] it before opening the same directory again.
 *
 * @param clock leave out for the system clock; tests pass one they control.
 * @param biometricKeyStore for the option of unlocking with biometrics
 *   (`passcode().enableBiometricUnlock()`); leave out for none.
 * @param extraCaCertPem CA certificates (PEM) trusted on top of the platform's trust store.
 */
suspend fun openTwostep(
    dataDir: File,
    serverUrl: String?,
    keyStore: PlatformKeyStore,
    deviceName: String = "twostep device",
    clock: ClockSource? = null,
    biometricKeyStore: PlatformBiometricKeyStore? = null,
    extraCaCertPem: ByteArray? = null,
): Twostep = Twostep.open(
    TwostepConfig(dataDir = dataDir.path, serverUrl = serverUrl, deviceName = deviceName, extraCaCertPem = extraCaCertPem),
    keyStore,
    clock,
    biometricKeyStore,
)

/**
 * A readable English description (the library's own text, never a secret), for logs and
 * as a fallback message; apps show their own localized text per error class.
 */
val TwostepException.description: String
    get() = toString()
