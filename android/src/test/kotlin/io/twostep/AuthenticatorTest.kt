package io.twostep

import io.twostep.ffi.AccountWarning
import io.twostep.ffi.AuthenticatorReason
import io.twostep.ffi.ImportFormat
import io.twostep.ffi.NewAuthAccount
import io.twostep.ffi.OffsetSource
import io.twostep.ffi.OtpAlgorithm
import io.twostep.ffi.OtpKind
import io.twostep.ffi.TwostepException
import io.twostep.testing.assertThrowsSuspend
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.nio.file.Files
import java.time.Instant

/**
 * "A user generating TOTP codes on-device": the authenticator vault through the generated
 * Kotlin API over the real library. The vault never talks to the server, so these tests
 * give a URL nothing listens on.
 */
class AuthenticatorTest {
    private val offline = "http://127.0.0.1:9"

    private fun tempDir(): File = Files.createTempDirectory("twostep-authenticator").toFile()

    /** RFC 6238's SHA-1 seed, base32. */
    private val rfcSeed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

    private val twoFas = """
        {"services": [
          {"name": "GitHub", "secret": "JBSWY3DPEHPK3PXP", "otp": {"account": "alice", "issuer": "GitHub", "tokenType": "TOTP"}, "order": {"position": 1}},
          {"name": "Slack", "secret": "KRUGS4ZANFZSAYJA", "otp": {"account": "carol", "digits": 6, "period": 30, "algorithm": "SHA256", "tokenType": "TOTP"},
           "order": {"position": 0}, "groupId": "w"}],
         "groups": [{"id": "w", "name": "Work"}], "schemaVersion": 4}
    """.trimIndent()

    @Test
    fun `a user generating TOTP codes on-device`() = runBlocking<Unit> {
        val dir = tempDir()
        val keyStore = MemoryKeyStore()
        val bankId = openTwostep(dir, offline, keyStore).use { app ->
            val auth = app.authenticator()
            assertTrue(auth.accounts().isEmpty())

            // Scans two QR codes and types in a setup key.
            val github = auth.addUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
            assertEquals(Triple("GitHub", "alice", OtpKind.TOTP), Triple(github.issuer, github.name, github.kind))
            val rfc = auth.addUri("otpauth://totp/RFC:6238?secret=$rfcSeed&digits=8")
            assertEquals(8, rfc.digits)
            val bank = auth.add(NewAuthAccount(issuer = "Bank", name = "me", secret = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", kind = OtpKind.HOTP, algorithm = OtpAlgorithm.SHA1))
            assertEquals(0L, bank.counter)

            // A damaged QR code and a second scan of the same one: typed errors, nothing stored.
            val bad = assertThrowsSuspend<TwostepException.Authenticator> { auth.addUri("otpauth://totp/X:y?secret=JBSWY3DP1&digits=6") }
            assertEquals(AuthenticatorReason.INVALID_BASE32, bad.reason)
            assertFalse(bad.detail.contains("JBSWY3DP"), "errors never quote the secret")
            val twelve = assertThrowsSuspend<TwostepException.Authenticator> { auth.addUri("otpauth://totp/X:y?secret=ONSWG4TFOQ&digits=12") }
            assertEquals(AuthenticatorReason.INVALID_DIGITS, twelve.reason)
            val again = assertThrowsSuspend<TwostepException.Authenticator> { auth.addUri("otpauth://totp/Other:x?secret=jbswy3dpehpk3pxp") }
            assertEquals(AuthenticatorReason.DUPLICATE, again.reason)
            val cut = assertThrowsSuspend<TwostepException.Authenticator> { auth.addUri("otpauth://totp/X:y?secret=JBSWY3DPE") }
            assertEquals(AuthenticatorReason.INVALID_SECRET_LENGTH, cut.reason, "never read as JBSWY3DP")
            assertEquals(AuthenticatorReason.MISSING_COUNTER, assertThrowsSuspend<TwostepException.Authenticator> { auth.addUri("otpauth://hotp/X:y?secret=ONSWG4TFOQ") }.reason)

            // A label that names another issuer than the issuer parameter: added, with a warning to show.
            val phishy = auth.addUri("otpauth://totp/Google:alice?secret=ONSWG4TFOQ&issuer=Evil")
            assertEquals("Evil", phishy.issuer)
            assertEquals(listOf(AccountWarning.IssuerMismatch("Google")), phishy.warnings)
            assertTrue(auth.edit(phishy.id, issuer = "Evil").warnings.isEmpty(), "editing the issuer clears it")
            val bare = auth.addUri("otpauth://totp/bob?secret=MZXW6YTBOI")
            assertNull(bare.issuer, "an absent issuer is null, not empty")
            auth.delete(phishy.id)
            auth.delete(bare.id)
            assertEquals(3, auth.accounts().size)

            // Imports a 2FAS backup: GitHub is already there, Slack is new (in its group).
            val report = auth.importFile(ImportFormat.TWO_FAS, twoFas.toByteArray())
            assertEquals(1, report.added.size)
            assertEquals(listOf("GitHub:alice"), report.duplicates.map { it.label })
            assertEquals(listOf("Work"), auth.groups())
            // A file with a bad line is refused whole, with the line.
            val refused = assertThrowsSuspend<TwostepException.Authenticator> {
                auth.importFile(ImportFormat.OTPAUTH_URIS, "otpauth://totp/A:a?secret=MFRGGZDF\notpauth://totp/B:b?secret=MFRG1\n".toByteArray())
            }
            assertEquals(AuthenticatorReason.INVALID_ENTRIES, refused.reason)
            assertEquals(listOf(2 to AuthenticatorReason.INVALID_BASE32), refused.entries.map { it.entry to it.reason })
            assertEquals(4, auth.accounts().size)

            // The codes screen: every account in one call.
            val list = auth.codesAt(Instant.ofEpochSecond(59))
            assertEquals(4, list.codes.size)
            val rfcCode = list.codes.first { it.id == rfc.id }
            assertEquals("94287082", rfcCode.code, "RFC 6238 Appendix B")
            assertEquals(1, rfcCode.secondsRemaining)
            assertEquals(30, rfcCode.periodSecs)
            assertNull(list.codes.first { it.id == bank.id }.code, "HOTP codes come one tap at a time")
            assertEquals(OffsetSource.NONE, list.offsetSource)
            assertFalse(list.offsetWarning)
            val live = auth.codes()
            assertTrue(live.codes.filter { it.kind == OtpKind.TOTP }.all { it.code!!.length in 6..8 && it.nextCode != null })

            // HOTP: each tap advances the counter (RFC 4226 Appendix D).
            assertEquals("755224", auth.nextHotpCode(bank.id).code)
            assertEquals("287082", auth.nextHotpCode(bank.id).code)

            // Rename, search, reorder, delete.
            auth.edit(github.id, name = "alice@work")
            assertEquals(listOf("alice@work"), auth.search("github").map { it.name })
            auth.moveTo(rfc.id, 0)
            assertEquals(rfc.id, auth.accounts().first().id)

            // The user's own clock correction wins over the server's.
            auth.setClockCorrection(20_000)
            val corrected = auth.codesAt(Instant.ofEpochSecond(39))
            assertEquals(OffsetSource.USER, corrected.offsetSource)
            assertTrue(corrected.offsetWarning, "more than 15 s off")
            assertEquals("94287082", corrected.codes.first { it.id == rfc.id }.code)
            auth.setClockCorrection(null)
            bank.id
        }

        // After a restart everything is there, the HOTP counter included.
        openTwostep(dir, offline, keyStore).use { app ->
            val auth = app.authenticator()
            assertEquals(4, auth.accounts().size)
            assertEquals(2L, auth.accounts().first { it.id == bankId }.counter)
            assertEquals("359152", auth.nextHotpCode(bankId).code)

            // An encrypted export moves the vault to another device.
            val file = auth.exportEncrypted(null, "a long export password")
            assertFalse(file.contains("JBSWY3DP"))
            openTwostep(tempDir(), offline, MemoryKeyStore()).use { other ->
                val wrong = assertThrowsSuspend<TwostepException.Authenticator> { other.authenticator().importEncrypted(file.toByteArray(), "not the password") }
                assertEquals(AuthenticatorReason.WRONG_PASSWORD, wrong.reason)
                assertEquals(4, other.authenticator().importEncrypted(file.toByteArray(), "a long export password").added.size)
                // The same accounts, in the same order (the ids are the new vault's own).
                assertEquals(auth.accounts().map { it.copy(id = 0) }, other.authenticator().accounts().map { it.copy(id = 0) })
            }
        }

        // An authenticator does not keep its Twostep (and the data directory) open.
        val orphan = openTwostep(dir, offline, keyStore).use { it.authenticator() }
        assertThrowsSuspend<TwostepException.InvalidInput> { orphan.accounts() }
        openTwostep(dir, offline, keyStore).use { assertEquals(4, it.authenticator().accounts().size) }
    }

    /** Not a timed assertion: prints what one `codes()` call costs from Kotlin at 1,000 accounts. */
    @Test
    fun `one codes call for 1,000 accounts`() = runBlocking<Unit> {
        openTwostep(tempDir(), offline, MemoryKeyStore()).use { app ->
            val auth = app.authenticator()
            val base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            val uris = (0 until 1000).joinToString("\n") { i ->
                val secret = "JBSWY3DP" + (0 until 8).map { base32[(i shr (it * 5 % 30)) and 31] }.joinToString("") + base32[i % 32] + base32[(i / 32) % 32]
                "otpauth://totp/Issuer:user$i@example.com?secret=$secret"
            }
            val report = auth.importFile(ImportFormat.OTPAUTH_URIS, uris.toByteArray())
            assertEquals(1000, report.added.size + report.duplicates.size)
            repeat(50) { auth.codes() }
            val samples = (0 until 200).map {
                val start = System.nanoTime()
                val list = auth.codes()
                val took = System.nanoTime() - start
                check(list.codes.size == report.added.size)
                took
            }.sorted()
            println("authenticator: codes() for ${report.added.size} accounts from Kotlin (this library build; release numbers: docs/BENCHMARKS.md): median %.3f ms, p90 %.3f ms".format(samples[100] / 1e6, samples[180] / 1e6))
        }
    }
}
