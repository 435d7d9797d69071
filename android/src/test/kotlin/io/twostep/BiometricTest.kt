package io.twostep

import io.twostep.ffi.PasscodeStatus
import io.twostep.ffi.PlatformBiometricKeyStore
import io.twostep.ffi.PlatformKeyException
import io.twostep.ffi.TwostepException
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files

/**
 * Biometric unlock through the async foreign trait: a Kotlin [PlatformBiometricKeyStore]
 * whose "prompt" suspends until the test, playing the user, approves or cancels it — as
 * `BiometricKeyStore` on Android suspends on a `BiometricPrompt`. The real library awaits
 * it without blocking a thread, and a cancelled call dismisses the prompt.
 */
class BiometricTest {
    private val pin = "482915"
    private val patience = 20_000L

    /** What the simulated user does at a prompt. */
    private enum class Answer { APPROVE, CANCEL, FAIL }

    /**
     * A biometric key store over a memory key: each call shows a "prompt" (announced on
     * [shown]) and suspends until [answer] is called; a cancelled coroutine counts as
     * [dismissed].
     */
    private class SimulatedPrompt : PlatformBiometricKeyStore {
        private val key = MemoryKeyStore()
        val shown = Channel<String>(Channel.UNLIMITED)
        private val answers = Channel<Answer>(Channel.UNLIMITED)
        val dismissed = CompletableDeferred<Unit>()

        fun answer(answer: Answer) {
            answers.trySend(answer)
        }

        private suspend fun prompt(label: String) {
            shown.send(label)
            val answer = try {
                answers.receive()
            } catch (e: CancellationException) {
                dismissed.complete(Unit)
                throw e
            }
            when (answer) {
                Answer.APPROVE -> Unit
                Answer.CANCEL -> throw PlatformKeyException.Cancelled("the user closed the prompt")
                Answer.FAIL -> throw PlatformKeyException.NotAuthenticated("too many attempts")
            }
        }

        override suspend fun wrapKey(label: String, key: ByteArray): ByteArray {
            prompt(label)
            return this.key.wrapKey(label, key)
        }

        override suspend fun unwrapKey(label: String, wrapped: ByteArray): ByteArray {
            prompt(label)
            return key.unwrapKey(label, wrapped)
        }
    }

    @Test
    fun `a prompt that suspends unlocks when approved and changes nothing when cancelled`() = runBlocking<Unit> {
        val dir = Files.createTempDirectory("twostep-biometric").toFile()
        val keyStore = MemoryKeyStore()
        val prompt = SimulatedPrompt()
        openTwostep(dir, null, keyStore, biometricKeyStore = prompt).use { app ->
            val passcode = app.passcode()
            passcode.set(pin)
            val enabling = async { passcode.enableBiometricUnlock() }
            assertEquals("twostep.account.biometric.v1", withTimeout(patience) { prompt.shown.receive() })
            assertFalse(passcode.state().biometricUnlock, "not on before the user approved")
            prompt.answer(Answer.APPROVE)
            withTimeout(patience) { enabling.await() }
            assertTrue(passcode.state().biometricUnlock)
            passcode.lock()

            // Cancelled, then failed: typed errors, still locked, nothing counted.
            for ((answer, expected) in listOf(
                Answer.CANCEL to TwostepException.AuthenticationCancelled::class.java,
                Answer.FAIL to TwostepException.AuthenticationFailed::class.java,
            )) {
                val unlocking = async { runCatching { passcode.unlockWithBiometrics() } }
                withTimeout(patience) { prompt.shown.receive() }
                // While the user looks at the prompt, the library answers other calls.
                assertEquals(PasscodeStatus.Locked, passcode.state().status)
                prompt.answer(answer)
                val error = withTimeout(patience) { unlocking.await() }.exceptionOrNull()
                assertEquals(expected, error?.javaClass, "$error")
                val state = passcode.state()
                assertEquals(PasscodeStatus.Locked, state.status)
                assertEquals(0, state.failedAttempts)
                assertTrue(state.biometricUnlock)
            }
            assertTrue(
                assertThrowsSuspend<TwostepException.Locked> { app.authenticator().accounts() }.message!!.contains("passcode"),
            )

            val unlocking = async { passcode.unlockWithBiometrics() }
            withTimeout(patience) { prompt.shown.receive() }
            prompt.answer(Answer.APPROVE)
            withTimeout(patience) { unlocking.await() }
            assertEquals(PasscodeStatus.Unlocked, passcode.state().status)
            assertTrue(app.authenticator().accounts().isEmpty(), "the account data is open")
        }
    }

    @Test
    fun `cancelling the call dismisses the prompt`() = runBlocking<Unit> {
        val dir = Files.createTempDirectory("twostep-biometric").toFile()
        val prompt = SimulatedPrompt()
        openTwostep(dir, null, MemoryKeyStore(), biometricKeyStore = prompt).use { app ->
            val passcode = app.passcode()
            passcode.set(pin)
            val enabling = async { passcode.enableBiometricUnlock() }
            withTimeout(patience) { prompt.shown.receive() }
            prompt.answer(Answer.APPROVE)
            withTimeout(patience) { enabling.await() }
            passcode.lock()

            val unlocking = async(Dispatchers.Default) { passcode.unlockWithBiometrics() }
            withTimeout(patience) { prompt.shown.receive() }
            unlocking.cancel()
            withTimeout(patience) { prompt.dismissed.await() }
            assertEquals(PasscodeStatus.Locked, passcode.state().status)

            // The passcode still works.
            passcode.unlock(pin)
            assertEquals(PasscodeStatus.Unlocked, passcode.state().status)
        }
    }

    @Test
    fun `without a biometric key store the option is refused`() = runBlocking<Unit> {
        val dir = Files.createTempDirectory("twostep-biometric").toFile()
        openTwostep(dir, null, MemoryKeyStore()).use { app ->
            app.passcode().set(pin)
            val e = assertThrowsSuspend<TwostepException.InvalidInput> { app.passcode().enableBiometricUnlock() }
            assertEquals("biometric_key_store", e.field)
        }
    }
}
