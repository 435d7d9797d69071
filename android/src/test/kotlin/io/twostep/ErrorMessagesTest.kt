package io.twostep

import io.twostep.ffi.AuthenticatorReason
import io.twostep.ffi.PasscodeWeakness
import io.twostep.ffi.Rejection
import io.twostep.ffi.TwostepException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.time.Duration
import java.time.Instant

/**
 * Every [TwostepException] variant's `message` is the library's readable text (the core's
 * `Display`), not a list of its fields: what an app that logs `e.message` or shows
 * `e.localizedMessage` gets. One test per variant, and a check that no variant is missing.
 */
class ErrorMessagesTest {
    private val until = Instant.parse("2030-01-01T00:00:00Z")

    /** One of each variant, with the text it must carry. */
    private val cases: List<Pair<TwostepException, String>> = listOf(
        TwostepException.InvalidCredentials() to "wrong username or password",
        TwostepException.InvalidCode(2) to "wrong code (2 attempts left)",
        TwostepException.CodeExpired() to "the code has expired; request a new one",
        TwostepException.ChallengeExpired() to "the sign-in has expired; sign in again",
        TwostepException.RateLimited(Duration.ofSeconds(45)) to "too many attempts; retry in 45 s",
        TwostepException.ResendTooSoon(Duration.ofSeconds(30)) to "a new code can be sent in 30 s",
        TwostepException.AccountLocked() to "the account is locked; contact your administrator",
        TwostepException.SetupRequired("set up an authenticator") to "two-step setup required: set up an authenticator",
        TwostepException.DeviceRevoked() to "this device was revoked; sign in again to register it",
        TwostepException.ChannelNotConfigured() to "that channel is not configured for this account",
        TwostepException.DeliveryFailed("gateway down") to "the code could not be delivered: gateway down",
        TwostepException.NotSignedIn() to "not signed in",
        TwostepException.NotRegistered() to "this device is not registered",
        TwostepException.NoSignInInProgress() to "no sign-in in progress",
        TwostepException.Offline("connection refused") to "cannot reach the server: connection refused",
        TwostepException.Timeout() to "the server did not answer in time",
        TwostepException.ServerNotTrusted("invalid peer certificate: UnknownIssuer") to
            "the server's certificate is not trusted: invalid peer certificate: UnknownIssuer",
        TwostepException.Server(503, "busy") to "server error 503: busy",
        TwostepException.Rejected(Rejection.CONFLICT, "taken") to "the server refused the request (conflict): taken",
        TwostepException.NoServer() to "no server is configured; give the server's URL",
        TwostepException.Storage("disk full") to "storage error: disk full",
        TwostepException.CorruptState("record session does not open") to "the local data is damaged: record session does not open",
        TwostepException.ForeignState("a bare sled database") to "the data directory is not twostep's: a bare sled database",
        TwostepException.NewerState(3) to "the data directory has format 3, newer than this version understands",
        TwostepException.KeyStore("device locked") to "key store: device locked",
        TwostepException.AuthenticationCancelled() to "authentication was cancelled",
        TwostepException.AuthenticationFailed("no match") to "authentication failed: no match; use the passcode",
        TwostepException.InvalidInput("code", "is empty") to "invalid code: is empty",
        TwostepException.Internal("the library panicked: boom") to "internal error: the library panicked: boom",
        TwostepException.Locked() to "locked; enter the passcode",
        TwostepException.PasscodeRequired() to "your organization requires a passcode",
        TwostepException.PasscodeNotSet() to "no passcode is set",
        TwostepException.PasscodeIncorrect(3, until, Duration.ofMinutes(1)) to
            "wrong passcode (3 attempts left before the local data is wiped); try again in 60 s",
        TwostepException.PasscodeLockedOut(until, Duration.ofMinutes(5)) to "too many wrong passcodes; try again in 5 min",
        TwostepException.PasscodeTooWeak(PasscodeWeakness.Sequence) to "passcode refused: do not use a sequence like 1234 or 4321",
        TwostepException.Wiped() to "too many wrong passcodes: the local data was wiped; sign in again",
        TwostepException.LocalDataUnrecoverable() to
            "this password cannot recover the local data; unlock with the passcode or reset the local data",
        TwostepException.Authenticator(AuthenticatorReason.INVALID_BASE32, "the secret is not valid base32", emptyList()) to
            "the secret is not valid base32",
    )

    @TestFactory
    fun `every variant's message is the library's text`(): List<DynamicTest> = cases.map { (error, text) ->
        DynamicTest.dynamicTest(error.javaClass.simpleName) {
            assertEquals(text, error.message)
            assertEquals(text, error.localizedMessage)
            assertEquals(text, error.toString())
            // What a logger prints for an uncaught exception: the class and the text.
            assertEquals(text, (error as Throwable).message)
        }
    }

    @Test
    fun `every variant has a case above`() {
        val variants = TwostepException::class.java.declaredClasses
            .filter { TwostepException::class.java.isAssignableFrom(it) }
            .map { it.simpleName }
            .sorted()
        assertEquals(variants, cases.map { it.first.javaClass.simpleName }.sorted())
    }

    @Test
    fun `optional parts of a message are left out when absent`() {
        assertEquals("wrong passcode", TwostepException.PasscodeIncorrect(null, null, null).message)
    }
}
