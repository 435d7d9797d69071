package io.twostep

import io.twostep.ffi.PlatformKeyException
import io.twostep.ffi.PlatformKeyStore
import java.security.GeneralSecurityException
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A [PlatformKeyStore] whose wrapping key lives in memory: for JVM tests, benchmarks and
 * previews. Share one instance between reopenings of a data directory to simulate a
 * device whose key survives an app restart; a new instance is a new device. Apps use
 * `AndroidKeystoreKeyStore`.
 */
class MemoryKeyStore : PlatformKeyStore {
    private val key: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    private val random = SecureRandom()

    override fun wrapKey(label: String, key: ByteArray): ByteArray {
        val nonce = ByteArray(KeyWrapFormat.NONCE_BYTES).also(random::nextBytes)
        try {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.ENCRYPT_MODE, this.key, GCMParameterSpec(KeyWrapFormat.TAG_BITS, nonce))
            cipher.updateAAD(KeyWrapFormat.aad(label))
            return KeyWrapFormat.encode(nonce, cipher.doFinal(key))
        } catch (e: GeneralSecurityException) {
            throw PlatformKeyException.Failed("wrapping failed: ${e.javaClass.simpleName}")
        } finally {
            key.fill(0)
        }
    }

    override fun unwrapKey(label: String, wrapped: ByteArray): ByteArray {
        val (nonce, ciphertext) = KeyWrapFormat.decode(wrapped)
            ?: throw PlatformKeyException.Rejected("not a wrapped key")
        try {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(KeyWrapFormat.TAG_BITS, nonce))
            cipher.updateAAD(KeyWrapFormat.aad(label))
            return cipher.doFinal(ciphertext)
        } catch (e: AEADBadTagException) {
            throw PlatformKeyException.Rejected("the wrapped key does not open with this key store")
        } catch (e: GeneralSecurityException) {
            throw PlatformKeyException.Failed("unwrapping failed: ${e.javaClass.simpleName}")
        }
    }
}
