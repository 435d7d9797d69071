package io.twostep

import io.twostep.ffi.Access
import io.twostep.ffi.ClientKind
import io.twostep.ffi.SignInStep
import io.twostep.ffi.TwostepException
import io.twostep.testing.TestServer
import io.twostep.testing.TlsTerminator
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File

/**
 * Whom the library inside the JVM trusts over HTTPS: the platform's trust store — on Linux
 * only `SSL_CERT_FILE` when it is set, as here: `scripts/test-kotlin.sh` starts the JVM with
 * `SSL_CERT_FILE` naming a file that holds nothing yet, and a TLS terminator in front of the
 * real server writes the CA it made there — plus the extra CA of the config on top.
 */
class TlsTrustTest {
    private val password = "correct-horse-tess"

    /** The JVM's `SSL_CERT_FILE`, also passed as a property so the test can fill it. */
    private val trustStore = File(
        System.getProperty("twostep.trustStore")
            ?: error("twostep.trustStore is not set: run scripts/test-kotlin.sh (it sets SSL_CERT_FILE too)"),
    )

    @Test
    fun `a CA only in the platform's store is trusted, an unknown one is refused unless given as extra CA`() = runBlocking<Unit> {
        assertEquals(trustStore.path, System.getenv("SSL_CERT_FILE"), "the store the library reads")
        TestServer.start().use { server ->
            server.createOrg("tls-org", requireTwoStep = false)
            server.createUser("tls-org", "tess", password)
            TlsTerminator.start(server.url, caOut = trustStore).use { trusted ->
                openTwostep(server.clientDir("trusted"), trusted.url, MemoryKeyStore()).use { app ->
                    assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.signIn("tess", password, ClientKind.MOBILE))
                    assertEquals(Access.SIGNED_IN, app.status().access)
                }
            }
            val otherCa = File(server.clientDir("other-ca"), "ca.pem")
            TlsTerminator.start(server.url, caOut = otherCa).use { unknown ->
                openTwostep(server.clientDir("refused"), unknown.url, MemoryKeyStore()).use { app ->
                    val e = assertThrowsSuspend<TwostepException.ServerNotTrusted> { app.signIn("tess", password, ClientKind.MOBILE) }
                    assertTrue(e.message!!.startsWith("the server's certificate is not trusted"), e.message)
                    assertTrue(e.detail.contains("UnknownIssuer"), e.detail)
                    assertEquals("server_not_trusted", e.code())
                    assertEquals(Access.FIRST_ACCESS, app.status().access, "nothing changed")
                    assertNull(app.status().pendingSignIn)
                }
                val extra = otherCa.readBytes()
                openTwostep(server.clientDir("extra"), unknown.url, MemoryKeyStore(), extraCaCertPem = extra).use { app ->
                    assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.signIn("tess", password, ClientKind.MOBILE))
                }
            }
        }
    }
}
