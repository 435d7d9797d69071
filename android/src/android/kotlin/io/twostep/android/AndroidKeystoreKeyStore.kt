package io.twostep.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import io.twostep.KeyWrapFormat
import io.twostep.ffi.PlatformKeyException
import io.twostep.ffi.PlatformKeyStore
import java.security.GeneralSecurityException
import java.security.KeyStore as JavaKeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The platform key store on Android: wraps the core's data keys with an AES-256-GCM key
 * that lives in the Android Keystore (hardware-backed where the device has a TEE or
 * StrongBox) and never leaves it. A copy of the app's data directory is useless without
 * this device's key.
 *
 * Wrapped value: `version (1) | nonce (12) | ciphertext + tag`, the key's label as
 * associated data (the same layout as [io.twostep.MemoryKeyStore]). The core calls this on
 * its own threads, never the main thread; Keystore operations may take tens of ms.
 *
 * @param alias the Keystore alias of the wrapping key.
 * @param strongBox prefer StrongBox (a separate secure chip, API 28+); falls back to the
 *   TEE when the device has none.
 * @param unlockedDeviceRequired the key works only while the device is unlocked (API 28+).
 *   Leave false if the app must open its data in the background (e.g. a push handler).
 */
class AndroidKeystoreKeyStore(
    private val alias: String = "io.twostep.platform-key.v1",
    private val strongBox: Boolean = false,
    private val unlockedDeviceRequired: Boolean = false,
) : PlatformKeyStore {

    override fun wrapKey(label: String, key: ByteArray): ByteArray = guarded("wrapping") {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            // The Keystore picks a random nonce itself (randomized encryption is required).
            cipher.init(Cipher.ENCRYPT_MODE, existingKey() ?: createKey())
            cipher.updateAAD(KeyWrapFormat.aad(label))
            val ciphertext = cipher.doFinal(key)
            KeyWrapFormat.encode(cipher.iv, ciphertext)
        } finally {
            key.fill(0)
        }
    }

    override fun unwrapKey(label: String, wrapped: ByteArray): ByteArray = guarded("unwrapping") {
        val (nonce, ciphertext) = KeyWrapFormat.decode(wrapped)
            ?: throw PlatformKeyException.Rejected("not a wrapped key")
        val key = existingKey()
            ?: throw PlatformKeyException.KeyInvalidated("the Keystore key '$alias' is gone (app data restored or key deleted)")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(KeyWrapFormat.TAG_BITS, nonce))
        cipher.updateAAD(KeyWrapFormat.aad(label))
        cipher.doFinal(ciphertext)
    }

    /** Deletes the wrapping key: every data directory wrapped with it becomes unreadable. */
    fun deleteWrappingKey() {
        keystore().deleteEntry(alias)
    }

    private fun keystore(): JavaKeyStore = JavaKeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun existingKey(): SecretKey? = (keystore().getEntry(alias, null) as? JavaKeyStore.SecretKeyEntry)?.secretKey

    private fun createKey(): SecretKey = synchronized(lock) {
        existingKey()?.let { return it }
        try {
            generate(strongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P)
        } catch (e: StrongBoxUnavailableException) {
            generate(false)
        }
    }

    private fun generate(inStrongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                    setIsStrongBoxBacked(inStrongBox)
                    setUnlockedDeviceRequired(unlockedDeviceRequired)
                }
            }
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE).run {
            init(spec)
            generateKey()
        }
    }

    /** Maps what the Keystore throws to what the core understands. */
    private inline fun <T> guarded(what: String, block: () -> T): T = try {
        block()
    } catch (e: PlatformKeyException) {
        throw e
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw PlatformKeyException.KeyInvalidated("$what: the Keystore key was invalidated")
    } catch (e: UserNotAuthenticatedException) {
        throw PlatformKeyException.Unavailable("$what: the device must be unlocked")
    } catch (e: AEADBadTagException) {
        throw PlatformKeyException.Rejected("$what: the wrapped key does not open with this device's key")
    } catch (e: java.security.KeyStoreException) {
        throw PlatformKeyException.Unavailable("$what: Android Keystore unavailable (${e.javaClass.simpleName})")
    } catch (e: GeneralSecurityException) {
        throw PlatformKeyException.Failed("$what failed: ${e.javaClass.simpleName}")
    } catch (e: java.security.ProviderException) {
        throw PlatformKeyException.Failed("$what failed in the Keystore: ${e.javaClass.simpleName}")
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        val lock = Any()
    }
}
