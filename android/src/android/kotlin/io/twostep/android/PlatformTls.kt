package io.twostep.android

import android.content.Context

/**
 * Gives the library's TLS verifier (rustls-platform-verifier) what it needs to ask Android
 * whom to trust: the application `Context`, through JNI (`bindings/src/android.rs`). Then the
 * server's certificate is checked by Android's trust manager — system CAs, user- and
 * MDM-installed CAs as the app's network security config allows, certificate pinning
 * there — not by a CA list inside the library. [TwostepAndroid.open] calls [init]; apps
 * that open `Twostep` themselves call it first (e.g. in `Application.onCreate`). Without
 * it, HTTPS requests fail.
 *
 * The verifier's own Kotlin half (`org.rustls.platformverifier`) comes with the AAR's
 * dependencies; `consumer-rules.pro` keeps it and this class from R8.
 */
object PlatformTls {
    @Volatile private var initialized = false

    /** Initialises the verifier once per process; later calls do nothing. */
    fun init(context: Context) {
        if (initialized) return
        synchronized(this) {
            if (initialized) return
            // The same libtwostep_ffi.so that JNA loads: loading it again here only binds
            // this class's native method.
            System.loadLibrary("twostep_ffi")
            initHosted(context.applicationContext)
            initialized = true
        }
    }

    @JvmStatic
    private external fun initHosted(context: Context)
}
