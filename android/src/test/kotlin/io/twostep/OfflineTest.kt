package io.twostep

import io.twostep.ffi.Access
import io.twostep.ffi.ClientKind
import io.twostep.ffi.SignInStep
import io.twostep.ffi.TwostepException
import io.twostep.testing.TestServer
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Test

/** The server goes down and comes back: a server of its own, so other tests never see it down. */
class OfflineTest {
    @Test
    fun `a server that is down arrives as Offline and the device works again when it is back`() = runBlocking<Unit> {
        TestServer.start().use { server ->
            server.createOrg("offline-org", requireTwoStep = false)
            server.createUser("offline-org", "olivia", "correct-horse-olivia")
            val keyStore = MemoryKeyStore()
            val dir = server.clientDir("olivia")
            openTwostep(dir, server.url, keyStore).use { app ->
                assertInstanceOf(SignInStep.PasscodeSetup::class.java, app.signIn("olivia", "correct-horse-olivia", ClientKind.MOBILE))

                server.stop()
                assertThrowsSuspend<TwostepException.Offline> { app.openSession() }
                assertThrowsSuspend<TwostepException.Offline> { app.signIn("olivia", "correct-horse-olivia", ClientKind.MOBILE) }
                val out = app.signOut()
                assertEquals(true, out.wasSignedIn)
                assertFalse(out.serverConfirmed, "offline: the session ends locally only")
                assertEquals(Access.REGISTERED, app.status().access, "the registration survives being offline")

                server.restart()
                assertEquals(app.status().registration?.deviceId, app.openSession().deviceId)
                assertEquals(Access.SIGNED_IN, app.status().access)
            }
        }
    }
}
