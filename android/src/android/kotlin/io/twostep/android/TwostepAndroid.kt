package io.twostep.android

import android.content.Context
import android.os.Build
import io.twostep.ffi.PlatformBiometricKeyStore
import io.twostep.ffi.PlatformKeyStore
import io.twostep.ffi.Twostep
import io.twostep.openTwostep
import java.io.File

/** Opening twostep the Android way. */
object TwostepAndroid {
    /**
     * Opens the app's twostep state: `noBackupFilesDir/twostep` (a backup restored on another
     * device could not be opened anyway: its keys are in this device's Keystore), the
     * Android Keystore as key store, and the device's model as its name. Initialises the
     * platform TLS verifier first ([PlatformTls]).
     *
     * Call once (e.g. from `Application.onCreate` in a coroutine) and keep the result. Hook
     * the lifecycle to the passcode lock: `appBackgrounded()` in `onStop` and
     * `appForegrounded()` in `onStart` of the process lifecycle.
     *
     * @param biometricKeyStore for the option of unlocking with biometrics, e.g.
     *   `BiometricKeyStore({ currentActivity }, title = getString(R.string.unlock))`.
     * @param extraCaCertPem CA certificates (PEM) trusted on top of Android's trust store.
     */
    suspend fun open(
        context: Context,
        serverUrl: String,
        keyStore: PlatformKeyStore = AndroidKeystoreKeyStore(),
        deviceName: String = defaultDeviceName(),
        biometricKeyStore: PlatformBiometricKeyStore? = null,
        extraCaCertPem: ByteArray? = null,
    ): Twostep {
        PlatformTls.init(context)
        return openTwostep(
            File(context.noBackupFilesDir, "twostep"),
            serverUrl,
            keyStore,
            deviceName,
            biometricKeyStore = biometricKeyStore,
            extraCaCertPem = extraCaCertPem,
        )
    }

    /** "Google Pixel 8". */
    fun defaultDeviceName(): String {
        val model = Build.MODEL.orEmpty()
        val maker = Build.MANUFACTURER.orEmpty().replaceFirstChar { it.uppercase() }
        return (if (model.startsWith(maker, ignoreCase = true)) model else "$maker $model").trim().ifEmpty { "Android device" }
    }
}
