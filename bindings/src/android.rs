//! Android only: the JNI entry point through which the Android layer hands
//! `rustls-platform-verifier` the application's `Context`, so that the core's TLS checks can
//! ask Android's trust manager (system and user CAs, MDM-installed ones, the app's network
//! security config). `io.twostep.android.PlatformTls` calls it once, before the first
//! connection (`TwostepAndroid.open` does); the verifier keeps a global reference.
//!
//! This is JNI rather than uniffi because it needs the `JNIEnv` and a `jobject`, which JNA
//! cannot pass; it is the crate's only exported symbol outside uniffi's scaffolding.

use jni::JNIEnv;
use jni::objects::{JClass, JObject};

/// `io.twostep.android.PlatformTls.initHosted(context)`. Throws `IllegalStateException` in
/// the JVM if the verifier cannot keep the context.
#[allow(unsafe_code)] // An exported JNI symbol must be unmangled: `#[unsafe(no_mangle)]`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_twostep_android_PlatformTls_initHosted<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    context: JObject<'local>,
) {
    if let Err(e) = rustls_platform_verifier::android::init_with_env(&mut env, context) {
        let _ = env.throw_new(
            "java/lang/IllegalStateException",
            format!("twostep: cannot initialise the platform TLS verifier: {e}"),
        );
    }
}
