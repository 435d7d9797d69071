package io.twostep.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import androidx.biometric.BiometricManager.Authenticators
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import io.twostep.KeyWrapFormat
import io.twostep.ffi.PlatformBiometricKeyStore
import io.twostep.ffi.PlatformKeyException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import java.security.GeneralSecurityException
import java.security.KeyStore as JavaKeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * The biometric key store on Android, for the option of unlocking with biometrics
 * (`passcode().enableBiometricUnlock()` / `unlockWithBiometrics()`): an AES-256-GCM key in
 * the Android Keystore created with `setUserAuthenticationRequired(true)` — every use needs
 * a `BiometricPrompt` (class 3 "strong" biometrics; with [allowDeviceCredential] on API 30+
 * also the screen lock) — and `setInvalidatedByBiometricEnrollment(true)`: enrolling a new
 * fingerprint or face destroys it, and biometric unlock turns off (the passcode remains).
 *
 * Both calls are `suspend`: the library awaits them on its own threads while the prompt is
 * up; the prompt itself is shown on the main thread over the activity [activity] returns.
 * Cancelling the call (the coroutine that called `unlockWithBiometrics`) dismisses it.
 * Wrapped value: `version | nonce | ciphertext + tag`, the label as associated data
 * ([KeyWrapFormat]).
 *
 * @param activity the activity to show the prompt over (the one in front), or null when
 *   there is none (then `Unavailable`).
 * @param title, subtitle, negativeButton the prompt's texts (the app localizes them).
 */
class BiometricKeyStore(
    private val activity: () -> FragmentActivity?,
    private val title: String,
    private val subtitle: String? = null,
    private val negativeButton: String = "Use passcode",
    private val allowDeviceCredential: Boolean = false,
    private val alias: String = "io.twostep.biometric-key.v1",
) : PlatformBiometricKeyStore {

    override suspend fun wrapKey(label: String, key: ByteArray): ByteArray = try {
        val cipher = guarded("wrapping") {
            Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.ENCRYPT_MODE, existingKey() ?: createKey()) }
        }
        val authenticated = authenticate(cipher)
        guarded("wrapping") {
            authenticated.updateAAD(KeyWrapFormat.aad(label))
            KeyWrapFormat.encode(authenticated.iv, authenticated.doFinal(key))
        }
    } finally {
        key.fill(0)
    }

    override suspend fun unwrapKey(label: String, wrapped: ByteArray): ByteArray {
        val (nonce, ciphertext) = KeyWrapFormat.decode(wrapped)
            ?: throw PlatformKeyException.Rejected("not a wrapped key")
        val cipher = guarded("unwrapping") {
            val key = existingKey()
                ?: throw PlatformKeyException.KeyInvalidated("the biometric key '$alias' is gone")
            Cipher.getInstance(TRANSFORMATION).apply {
                init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(KeyWrapFormat.TAG_BITS, nonce))
            }
        }
        val authenticated = authenticate(cipher)
        return guarded("unwrapping") {
            authenticated.updateAAD(KeyWrapFormat.aad(label))
            authenticated.doFinal(ciphertext)
        }
    }

    /** Shows the prompt bound to [cipher] and returns the cipher it unlocked. */
    private suspend fun authenticate(cipher: Cipher): Cipher = withContext(Dispatchers.Main) {
        val host = activity() ?: throw PlatformKeyException.Unavailable("no activity to show the biometric prompt over")
        suspendCancellableCoroutine { continuation ->
            val callback = object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                    val unlocked = result.cryptoObject?.cipher
                    if (unlocked != null) {
                        continuation.resume(unlocked)
                    } else {
                        continuation.resumeWithException(PlatformKeyException.Failed("the prompt returned no cipher"))
                    }
                }

                override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                    if (continuation.isActive) continuation.resumeWithException(promptError(errorCode, errString.toString()))
                }
                // onAuthenticationFailed: one finger or face that did not match; the prompt stays up.
            }
            val prompt = BiometricPrompt(host, ContextCompat.getMainExecutor(host), callback)
            val info = BiometricPrompt.PromptInfo.Builder()
                .setTitle(title)
                .apply { if (subtitle != null) setSubtitle(subtitle) }
                .apply {
                    if (allowDeviceCredential && Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                        setAllowedAuthenticators(Authenticators.BIOMETRIC_STRONG or Authenticators.DEVICE_CREDENTIAL)
                    } else {
                        setAllowedAuthenticators(Authenticators.BIOMETRIC_STRONG)
                        setNegativeButtonText(negativeButton)
                    }
                }
                .setConfirmationRequired(false)
                .build()
            continuation.invokeOnCancellation { prompt.cancelAuthentication() }
            prompt.authenticate(info, BiometricPrompt.CryptoObject(cipher))
        }
    }

    private fun promptError(code: Int, text: String): PlatformKeyException = when (code) {
        BiometricPrompt.ERROR_USER_CANCELED,
        BiometricPrompt.ERROR_NEGATIVE_BUTTON,
        BiometricPrompt.ERROR_CANCELED,
        -> PlatformKeyException.Cancelled(text)
        BiometricPrompt.ERROR_HW_UNAVAILABLE,
        BiometricPrompt.ERROR_HW_NOT_PRESENT,
        BiometricPrompt.ERROR_NO_DEVICE_CREDENTIAL,
        -> PlatformKeyException.Unavailable(text)
        // Lockout, nothing enrolled, timeout, ...: this time the user is not authenticated.
        else -> PlatformKeyException.NotAuthenticated(text)
    }

    /** Deletes the key: biometric unlock can never open again (the passcode remains). */
    fun deleteKey() {
        keystore().deleteEntry(alias)
    }

    private fun keystore(): JavaKeyStore = JavaKeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun existingKey(): SecretKey? = (keystore().getEntry(alias, null) as? JavaKeyStore.SecretKeyEntry)?.secretKey

    private fun createKey(): SecretKey = synchronized(lock) {
        existingKey() ?: KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE).run {
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .setUserAuthenticationRequired(true)
                .setInvalidatedByBiometricEnrollment(true)
                .apply {
                    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                        // Every use needs its own authentication (timeout 0).
                        val kinds = KeyProperties.AUTH_BIOMETRIC_STRONG or
                            (if (allowDeviceCredential) KeyProperties.AUTH_DEVICE_CREDENTIAL else 0)
                        setUserAuthenticationParameters(0, kinds)
                    }
                    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setUnlockedDeviceRequired(true)
                }
                .build()
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
        // New biometrics were enrolled: this key can never be used again.
        deleteKey()
        throw PlatformKeyException.KeyInvalidated("$what: the biometric key was invalidated by a change of enrolled biometrics")
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
