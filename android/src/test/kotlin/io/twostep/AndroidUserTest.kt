package io.twostep

import io.twostep.ffi.Access
import io.twostep.ffi.Channel
import io.twostep.ffi.ClientKind
import io.twostep.ffi.PasscodeRequirement
import io.twostep.ffi.PasscodeStatus
import io.twostep.ffi.SignInStep
import io.twostep.ffi.TwoStepOrigin
import io.twostep.ffi.Twostep
import io.twostep.ffi.TwostepException
import io.twostep.testing.TestServer
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.io.File

/**
 * "An Android user": the generated Kotlin API over the real library (JNA) against the real
 * server binary, as an app would use it. Each test has its own users and data directories.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AndroidUserTest {
    private lateinit var server: TestServer

    @BeforeAll
    fun startServer() {
        server = TestServer.start()
    }

    @AfterAll
    fun stopServer() {
        server.close()
    }

    private suspend fun open(dir: File, keyStore: MemoryKeyStore): Twostep =
        openTwostep(dir, server.url, keyStore, deviceName = "Pixel 8 (JVM test)")

    /** An org and a user in it; with [email], the user has configured email as second step. */
    private fun user(requireTwoStep: Boolean, email: Boolean): Pair<String, String> {
        val org = TestServer.unique(if (requireTwoStep) "policy-org" else "free-org")
        val username = TestServer.unique("user")
        val password = "correct-horse-$username"
        server.createOrg(org, requireTwoStep)
        server.createUser(org, username, password)
        if (email) server.enrollEmail(username, password, "$username@example.com")
        return username to password
    }

    @Test
    fun `first access under the org policy needs the email code and a passcode, then survives a restart`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = true, email = true)
        val email = "$username@example.com"
        val dir = server.clientDir(username)
        val keyStore = MemoryKeyStore()

        val deviceId = open(dir, keyStore).use { app ->
            assertEquals(Access.FIRST_ACCESS, app.status().access)

            val step = app.signIn(username, password, ClientKind.MOBILE)
            val prompt = assertInstanceOf(SignInStep.CodeRequired::class.java, step).prompt
            assertEquals(Channel.EMAIL, prompt.channel)
            assertEquals(6, prompt.codeLength)
            assertEquals(5, prompt.attemptsLeft)
            val masked = requireNotNull(prompt.maskedDestination)
            assertTrue(masked.contains('•') && !masked.contains(username), "masked: $masked")
            assertFalse(prompt.isExpired(java.time.Instant.now()))

            val code = server.latestCode(email)!!
            val wrong = code.dropLast(1) + ((code.last() - '0' + 1) % 10)
            val invalid = assertThrowsSuspend<TwostepException.InvalidCode> { app.submitCode(wrong) }
            assertEquals(4, invalid.attemptsLeft)
            assertEquals(4, app.status().pendingSignIn?.prompt?.attemptsLeft)

            val done = assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.submitCode(code))
            assertEquals(PasscodeRequirement.REQUIRED, done.requirement)
            assertEquals(PasscodeRequirement.REQUIRED, done.policy.requirement)
            assertTrue(done.policy.minLength >= 4)
            assertEquals(username, done.session.username)
            val deviceId = requireNotNull(done.session.deviceId)

            // The org requires a passcode: nothing that it protects works before one is set.
            assertThrowsSuspend<TwostepException.PasscodeRequired> { app.me() }
            val weak = assertThrowsSuspend<TwostepException.PasscodeTooWeak> { app.passcode().set("1111") }
            assertNotNull(weak.reason)
            app.passcode().set("739154")

            val me = app.me()
            assertEquals(username, me.user.username)
            assertTrue(me.twoStep.enabled && me.twoStep.requiredByOrg)
            assertEquals(TwoStepOrigin.FORCED, me.twoStep.origin)
            assertTrue(me.twoStep.channels.any { it.channel == Channel.EMAIL && it.confirmed })
            deviceId
        }

        // Restart: a new process opens the same directory with the same platform key.
        open(dir, keyStore).use { app ->
            val locked = app.status()
            assertEquals(Access.LOCKED, locked.access)
            assertEquals(PasscodeStatus.Locked, locked.passcode)
            assertNull(locked.registration, "nothing of the account is readable while locked")

            val incorrect = assertThrowsSuspend<TwostepException.PasscodeIncorrect> { app.passcode().unlock("739155") }
            assertNotNull(incorrect.attemptsLeft, "the org policy wipes after too many attempts")
            assertFalse(app.passcode().unlock("739154").changeRequired)

            val status = app.status()
            assertEquals(Access.SIGNED_IN, status.access)
            assertEquals(deviceId, status.registration?.deviceId)
            assertEquals(PasscodeRequirement.REQUIRED, status.registration?.passcodePolicy?.requirement)

            val session = app.openSession()
            assertEquals(deviceId, session.deviceId)
            assertTrue(app.devices().any { it.id == deviceId && !it.revoked })
        }
    }

    @Test
    fun `a user who chose two-step gets an optional passcode and can skip it`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = false, email = true)
        val dir = server.clientDir(username)
        val keyStore = MemoryKeyStore()

        open(dir, keyStore).use { app ->
            val prompt = assertInstanceOf(SignInStep.CodeRequired::class.java, app.signIn(username, password, ClientKind.MOBILE)).prompt
            val done = assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.submitCode(server.latestCode("$username@example.com")!!))
            assertEquals(Channel.EMAIL, prompt.channel)
            assertEquals(PasscodeRequirement.OPTIONAL, done.requirement)
            // Skipped: everything works without a passcode.
            val me = app.me()
            assertEquals(TwoStepOrigin.CHOSEN, me.twoStep.origin)
            assertFalse(me.twoStep.requiredByOrg)
        }

        open(dir, keyStore).use { app ->
            val status = app.status()
            assertEquals(Access.SIGNED_IN, status.access)
            assertEquals(PasscodeStatus.NotSet, status.passcode)
            assertEquals(username, status.session?.username)
            assertEquals(status.registration?.deviceId, app.openSession().deviceId)
        }
    }

    @Test
    fun `a wrong password arrives as InvalidCredentials and changes nothing`() = runBlocking<Unit> {
        val (username, _) = user(requireTwoStep = false, email = true)
        open(server.clientDir(username), MemoryKeyStore()).use { app ->
            assertThrowsSuspend<TwostepException.InvalidCredentials> { app.signIn(username, "not-the-password", ClientKind.MOBILE) }
            val status = app.status()
            assertEquals(Access.FIRST_ACCESS, status.access)
            assertNull(status.pendingSignIn)
            assertThrowsSuspend<TwostepException.NoSignInInProgress> { app.submitCode("123456") }
            val invalid = assertThrowsSuspend<TwostepException.InvalidInput> { app.signIn("", "x", ClientKind.MOBILE) }
            assertEquals("username", invalid.field)
        }
    }

    @Test
    fun `a device the operator revoked arrives as DeviceRevoked and goes back to first access`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = false, email = false)
        open(server.clientDir(username), MemoryKeyStore()).use { app ->
            // Without two-step the mobile sign-in registers the device at once.
            val step = assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.signIn(username, password, ClientKind.MOBILE))
            assertEquals(PasscodeRequirement.OPTIONAL, step.requirement)
            server.revokeDevices(username)

            val revoked = assertThrowsSuspend<TwostepException.DeviceRevoked> { app.openSession() }
            assertTrue(revoked.description.contains("revoked"), revoked.description)
            assertEquals(Access.FIRST_ACCESS, app.status().access)
            assertThrowsSuspend<TwostepException.NotRegistered> { app.openSession() }
        }
    }

    @Test
    fun `a test clock drives local time through the Clock interface`() = runBlocking<Unit> {
        val (username, password) = user(requireTwoStep = false, email = false)
        val clock = io.twostep.testing.ManualClock()
        openTwostep(server.clientDir(username), server.url, MemoryKeyStore(), clock = clock).use { app ->
            app.signIn(username, password, ClientKind.MOBILE)
            val session = requireNotNull(app.status().session)
            clock.advance(java.time.Duration.between(clock.now(), session.expiresAt).plusSeconds(1))
            val later = app.status()
            assertEquals(Access.REGISTERED, later.access, "the session expired by the test clock")
            assertNull(later.session)
            assertNotEquals(null, later.registration)
        }
    }
}
