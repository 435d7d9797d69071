package io.twostep

import io.twostep.ffi.PlatformKeyException
import io.twostep.ffi.PlatformKeyStore
import io.twostep.ffi.TwostepException
import io.twostep.ffi.libraryVersion
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files

/** The key store and clock as foreign traits, and local failures as Kotlin exceptions (no server). */
class PlatformTest {
    private val unusedServer = "http://127.0.0.1:9"

    private fun tempDir() = Files.createTempDirectory("twostep-platform-").toFile().also { it.deleteOnExit() }

    @Test
    fun `the memory key store binds wrapped keys to their label and to itself`() {
        val store = MemoryKeyStore()
        val key = ByteArray(32) { it.toByte() }
        val wrapped = store.wrapKey("twostep.local.v1", key.copyOf())
        assertArrayEquals(key, store.unwrapKey("twostep.local.v1", wrapped))
        assertThrows(PlatformKeyException.Rejected::class.java) { store.unwrapKey("twostep.account.v1", wrapped) }
        assertThrows(PlatformKeyException.Rejected::class.java) { MemoryKeyStore().unwrapKey("twostep.local.v1", wrapped) }
        assertThrows(PlatformKeyException.Rejected::class.java) { store.unwrapKey("twostep.local.v1", byteArrayOf(1, 2, 3)) }
    }

    @Test
    fun `a data directory opens again only with its own key store`() = runBlocking<Unit> {
        val dir = tempDir()
        val keyStore = MemoryKeyStore()
        openTwostep(dir, unusedServer, keyStore).use { app ->
            // A second instance on the same directory: the first still holds it.
            val busy = assertThrowsSuspend<TwostepException.Storage> { openTwostep(dir, unusedServer, keyStore) }
            assertTrue(busy.detail.contains("in use"), busy.detail)
            app.status()
        }
        openTwostep(dir, unusedServer, keyStore).close()
        val foreign = assertThrowsSuspend<TwostepException.KeyStore> { openTwostep(dir, unusedServer, MemoryKeyStore()) }
        assertTrue(foreign.detail.contains("rejected"), foreign.detail)
    }

    @Test
    fun `key store failures thrown in Kotlin come back as TwostepException`() = runBlocking<Unit> {
        val unavailable = object : PlatformKeyStore {
            override fun wrapKey(label: String, key: ByteArray): ByteArray = throw PlatformKeyException.Unavailable("device locked")
            override fun unwrapKey(label: String, wrapped: ByteArray): ByteArray = throw PlatformKeyException.Unavailable("device locked")
        }
        val e = assertThrowsSuspend<TwostepException.KeyStore> { openTwostep(tempDir(), unusedServer, unavailable) }
        assertTrue(e.detail.contains("unavailable") && e.detail.contains("device locked"), e.detail)

        val buggy = object : PlatformKeyStore {
            override fun wrapKey(label: String, key: ByteArray): ByteArray = throw IllegalStateException("bug in the app")
            override fun unwrapKey(label: String, wrapped: ByteArray): ByteArray = throw IllegalStateException("bug in the app")
        }
        val unexpected = assertThrowsSuspend<TwostepException.KeyStore> { openTwostep(tempDir(), unusedServer, buggy) }
        assertTrue(unexpected.detail.contains("bug in the app"), unexpected.detail)
    }

    @Test
    fun `errors carry the library's waits and text`() {
        val thirty = java.time.Duration.ofSeconds(30)
        assertEquals(thirty, TwostepException.RateLimited(thirty).retryAfter())
        assertEquals("too many attempts; retry in 30 s", TwostepException.RateLimited(thirty).toString())
        assertEquals(java.time.Duration.ofSeconds(7), TwostepException.ResendTooSoon(java.time.Duration.ofSeconds(7)).retryAfter())
        assertEquals(null, TwostepException.Timeout().retryAfter())
        val until = java.time.Instant.parse("2030-01-01T00:00:00Z")
        val lockedOut = TwostepException.PasscodeLockedOut(until, java.time.Duration.ofMinutes(5))
        assertEquals(until, lockedOut.nextAttemptAt())
        assertEquals("too many wrong passcodes; try again in 5 min", lockedOut.description)
        assertEquals("passcode_locked_out", lockedOut.code())
        assertEquals("wrong code (3 attempts left)", TwostepException.InvalidCode(3).description)
        assertTrue(libraryVersion().matches(Regex("""\d+\.\d+\.\d+.*""")))
    }
}
