package io.twostep

import io.twostep.ffi.Access
import io.twostep.ffi.ClientKind
import io.twostep.ffi.PasscodeRequirement
import io.twostep.ffi.PasscodeStatus
import io.twostep.ffi.PasscodeWeakness
import io.twostep.ffi.SignInStep
import io.twostep.ffi.Twostep
import io.twostep.ffi.TwostepException
import io.twostep.testing.ManualClock
import io.twostep.testing.TestServer
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit

/**
 * "An Android user entering a PIN": the PIN through the generated Kotlin API, the real
 * library and the real server. Local time comes from a [ManualClock] (the library's `ClockSource`
 * hook), so the escalating delays pass without sleeping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AndroidPinTest {
    private lateinit var server: TestServer

    @BeforeAll
    fun startServer() {
        server = TestServer.start()
    }

    @AfterAll
    fun stopServer() {
        server.close()
    }

    private suspend fun open(dir: File, keyStore: MemoryKeyStore, clock: ManualClock): Twostep =
        openTwostep(dir, server.url, keyStore, deviceName = "Pixel 8 (PIN test)", clock = clock)

    private fun user(requireTwoStep: Boolean, email: Boolean): Pair<String, String> {
        val org = TestServer.unique(if (requireTwoStep) "pin-policy-org" else "pin-free-org")
        val username = TestServer.unique("pin-user")
        val password = "correct-horse-$username"
        server.createOrg(org, requireTwoStep)
        server.createUser(org, username, password)
        if (email) server.enrollEmail(username, password, "$username@example.com")
        return username to password
    }

    private suspend fun assertWrongPin(app: Twostep, attemptsLeft: Int, lockedUntil: Instant?) {
        val wrong = assertThrowsSuspend<TwostepException.PasscodeIncorrect> { app.passcode().unlock("111333") }
        assertEquals(attemptsLeft, wrong.attemptsLeft, "attempts left before the wipe")
        assertEquals(lockedUntil, wrong.nextAttemptAt)
        assertEquals(lockedUntil, wrong.nextAttemptAt(), "the same wait through the error's method")
    }

    @Test
    fun `under the org policy the PIN is forced and wrong PINs escalate`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = true, email = true)
        val dir = server.clientDir(username)
        val keyStore = MemoryKeyStore()
        // Whole seconds: the library works in Unix seconds.
        val clock = ManualClock(Instant.now().truncatedTo(ChronoUnit.SECONDS))

        open(dir, keyStore, clock).use { app ->
            assertInstanceOf(SignInStep.CodeRequired::class.java, app.signIn(username, password, ClientKind.MOBILE))
            val setup = assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.submitCode(server.latestCode("$username@example.com")!!))
            assertEquals(PasscodeRequirement.REQUIRED, setup.requirement)
            assertEquals(PasscodeStatus.NotSet, app.passcode().state().status)
            // Forced: nothing the PIN protects works without one, and trivial PINs are refused.
            assertThrowsSuspend<TwostepException.PasscodeRequired> { app.me() }
            assertEquals(PasscodeWeakness.Sequence, assertThrowsSuspend<TwostepException.PasscodeTooWeak> { app.passcode().set("123456") }.reason)
            assertEquals(PasscodeWeakness.RepeatedCharacter, assertThrowsSuspend<TwostepException.PasscodeTooWeak> { app.passcode().set("777777") }.reason)
            assertEquals(PasscodeWeakness.TooShort(6), assertThrowsSuspend<TwostepException.PasscodeTooWeak> { app.passcode().set("4831") }.reason)
            app.passcode().set("739154")
            assertEquals(username, app.me().user.username)
            assertThrowsSuspend<TwostepException.PasscodeRequired> { app.passcode().remove("739154") }
        }

        // The app starts again: locked. Wrong PINs 1-4 cost nothing, the 5th a minute, the 6th five.
        open(dir, keyStore, clock).use { app ->
            assertEquals(Access.LOCKED, app.status().access)
            assertNull(app.status().registration, "nothing of the account is readable while locked")
            for (left in listOf(9, 8, 7, 6)) assertWrongPin(app, left, null)
            assertWrongPin(app, 5, clock.now().plusSeconds(60))
            assertEquals(PasscodeStatus.LockedOut(clock.now().plusSeconds(60)), app.passcode().state().status)
            val waiting = assertThrowsSuspend<TwostepException.PasscodeLockedOut> { app.passcode().unlock("739154") }
            assertEquals(clock.now().plusSeconds(60), waiting.until)
            assertEquals(5, app.passcode().state().failedAttempts, "an attempt refused during a delay is not counted")

            clock.advance(Duration.ofSeconds(60))
            assertWrongPin(app, 4, clock.now().plusSeconds(300))
            // Setting the device clock back does not shorten the delay.
            val until = clock.now().plusSeconds(300)
            clock.advance(Duration.ofHours(-2))
            assertEquals(until, assertThrowsSuspend<TwostepException.PasscodeLockedOut> { app.passcode().unlock("739154") }.until)
            clock.advance(Duration.ofHours(2).plusSeconds(300))

            assertFalse(app.passcode().unlock("739154").changeRequired)
            assertEquals(Access.SIGNED_IN, app.status().access)
            val state = app.passcode().state()
            assertEquals(0, state.failedAttempts)
            assertEquals(10, state.attemptsLeft)

            // Five minutes in the background (the policy's timeout) lock it again.
            app.passcode().appBackgrounded()
            clock.advance(state.policy.lockTimeout)
            assertEquals(PasscodeStatus.Locked, app.passcode().appForegrounded())
            assertThrowsSuspend<TwostepException.Locked> { app.me() }
            app.passcode().unlock("739154")
            assertEquals(username, app.me().user.username)
        }
    }

    @Test
    fun `under a user policy the PIN can be skipped`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = false, email = false)
        val dir = server.clientDir(username)
        val keyStore = MemoryKeyStore()
        val clock = ManualClock()

        open(dir, keyStore, clock).use { app ->
            val setup = assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.signIn(username, password, ClientKind.MOBILE))
            assertEquals(PasscodeRequirement.OPTIONAL, setup.requirement)
            // Skipped: just carry on.
            assertEquals(username, app.me().user.username)
        }
        open(dir, keyStore, clock).use { app ->
            val status = app.status()
            assertEquals(Access.SIGNED_IN, status.access, "without a PIN the app opens unlocked")
            assertEquals(PasscodeStatus.NotSet, status.passcode)
            assertThrowsSuspend<TwostepException.PasscodeNotSet> { app.passcode().unlock("739154") }
            // Set later, and removed again: the user's choice.
            app.passcode().set("739154")
            app.passcode().lock()
            assertEquals(Access.LOCKED, app.status().access)
            app.passcode().unlock("739154")
            app.passcode().remove("739154")
            assertEquals(PasscodeStatus.NotSet, app.passcode().state().status)
        }
    }
}
