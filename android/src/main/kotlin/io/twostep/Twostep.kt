/**
 * The idiomatic Kotlin layer over the generated bindings (`io.twostep.ffi`).
 *
 * The generated API is already Kotlin-shaped: `suspend` functions for everything slow,
 * data classes, sealed classes for [SignInStep] and [TwostepException], `java.time.Instant`
 * for times, `AutoCloseable` objects. This file adds only what is awkward there: opening
 * from a [File], durations for "retry after", and a readable message for every error.
 */
package io.twostep

import io.twostep.ffi.Clock
import io.twostep.ffi.CodePrompt
import io.twostep.ffi.PlatformKeyStore
import io.twostep.ffi.Twostep
import io.twostep.ffi.TwostepConfig
import io.twostep.ffi.TwostepException
import java.io.File
import java.time.Duration
import java.time.Instant

/**
 * Opens (creating on first use) the twostep state in [dataDir] for [serverUrl].
 *
 * Runs on the library's own threads (the key store is called there, not on the caller's
 * thread), so it is safe to call from the main dispatcher. Keep the result for the life of
 * the process and [Twostep.close] it before opening the same directory again.
 *
 * @param clock leave out for the system clock; tests pass one they control.
 */
suspend fun openTwostep(
    dataDir: File,
    serverUrl: String,
    keyStore: PlatformKeyStore,
    deviceName: String = "twostep device",
    clock: Clock? = null,
): Twostep = Twostep.open(TwostepConfig(dataDir = dataDir.path, serverUrl = serverUrl, deviceName = deviceName), keyStore, clock)

/** How long to wait before trying again, for errors that say so. */
val TwostepException.retryAfter: Duration?
    get() = when (this) {
        is TwostepException.RateLimited -> Duration.ofSeconds(retryAfterSecs)
        is TwostepException.ResendTooSoon -> Duration.ofSeconds(retryAfterSecs)
        else -> null
    }

/** When the next passcode attempt is allowed, for passcode errors that say so. */
val TwostepException.nextAttemptAt: Instant?
    get() = when (this) {
        is TwostepException.PasscodeLockedOut -> until
        is TwostepException.PasscodeIncorrect -> lockedUntil
        else -> null
    }

/**
 * A readable English description (the library's own text, never a secret), for logs and
 * as a fallback message; apps show their own localized text per error class.
 */
val TwostepException.description: String
    get() = toString()

/** Time until a new code may be requested (zero: now); null for channels without resend. */
fun CodePrompt.resendIn(now: Instant = Instant.now()): Duration? =
    resendAfter?.let { if (it.isAfter(now)) Duration.between(now, it) else Duration.ZERO }

/** Whether the code (or, for the authenticator, the sign-in) has expired at [now]. */
fun CodePrompt.isExpired(now: Instant = Instant.now()): Boolean = !now.isBefore(expiresAt)
