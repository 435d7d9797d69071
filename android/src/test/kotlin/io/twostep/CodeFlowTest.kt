package io.twostep

import io.twostep.ffi.Authenticator
import io.twostep.ffi.CodeList
import io.twostep.testing.ManualClock
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.time.Duration
import java.time.Instant

/**
 * `Authenticator.codesFlow`: an emission at every second of the clock, one at the very
 * second a period ends, and none after the collector is cancelled. The test clock is moved
 * by hand and parked just before the next second, so the flow's real waits are a few
 * milliseconds; the assertions are about which seconds were emitted, never about how long
 * anything took (generous timeouts only guard against a hang).
 */
class CodeFlowTest {
    /** RFC 6238's SHA-1 seed: 30-second periods. */
    private val rfcSeed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

    /** A period boundary (a multiple of 30 s) in the future of any test run's fixtures. */
    private val boundary = Instant.ofEpochSecond(1_900_000_020L)

    private val patience = 20_000L

    private fun withAuthenticator(block: suspend CoroutineScope.(Authenticator) -> Unit) = runBlocking<Unit> {
        val dir = Files.createTempDirectory("twostep-codeflow").toFile()
        openTwostep(dir, null, MemoryKeyStore()).use { app ->
            val auth = app.authenticator()
            auth.addUri("otpauth://totp/RFC:6238?secret=$rfcSeed&issuer=RFC")
            block(auth)
        }
    }

    /** Collects [Authenticator.codesFlow] on another thread into a channel. */
    private fun CoroutineScope.collect(auth: Authenticator, clock: ManualClock): Pair<Job, Channel<CodeList>> {
        val emitted = Channel<CodeList>(Channel.UNLIMITED)
        val job = launch(Dispatchers.Default) { auth.codesFlow(clock).collect { emitted.send(it) } }
        return job to emitted
    }

    private suspend fun Channel<CodeList>.next(): CodeList = withTimeout(patience) { receive() }

    /** Nothing more arrives while the clock stays where it is. */
    private suspend fun Channel<CodeList>.quiet() {
        assertNull(withTimeoutOrNull(300) { receive() }, "no second emission for the same second")
    }

    @Test
    fun `it emits once for every second of the clock`() = withAuthenticator { auth ->
        val start = boundary.minusSeconds(10)
        val clock = ManualClock(start.plusMillis(999))
        val (job, emitted) = collect(auth, clock)

        val first = emitted.next()
        assertEquals(start, first.time)
        assertEquals(10, first.codes.single().secondsRemaining)
        emitted.quiet()

        for (s in 1L..3L) {
            clock.set(start.plusSeconds(s).plusMillis(999))
            val tick = emitted.next()
            assertEquals(start.plusSeconds(s), tick.time, "one emission per second, in order")
            assertEquals(10 - s.toInt(), tick.codes.single().secondsRemaining, "the countdown moves")
            assertEquals(first.codes.single().code, tick.codes.single().code, "same period, same code")
            emitted.quiet()
        }
        job.cancel()
    }

    @Test
    fun `it emits the new code at the second the period ends`() = withAuthenticator { auth ->
        val clock = ManualClock(boundary.minusMillis(1))
        val (job, emitted) = collect(auth, clock)

        val last = emitted.next()
        assertEquals(boundary.minusSeconds(1), last.time)
        assertEquals(1, last.codes.single().secondsRemaining)

        clock.set(boundary)
        val fresh = emitted.next()
        assertEquals(boundary, fresh.time, "emitted at the boundary itself, not a second later")
        val code = fresh.codes.single()
        assertEquals(30, code.secondsRemaining, "a whole period ahead")
        assertNotEquals(last.codes.single().code, code.code)
        assertEquals(last.codes.single().nextCode, code.code, "the code announced as next")
        assertEquals(auth.codesAt(boundary), fresh, "the library's codes for that second")
        job.cancel()
    }

    @Test
    fun `cancelling the collector stops it`() = withAuthenticator { auth ->
        val start = boundary.minusSeconds(5)
        val clock = ManualClock(start.plusMillis(999))
        val (job, emitted) = collect(auth, clock)
        emitted.next()

        job.cancel()
        withTimeout(patience) { job.join() }
        assertTrue(job.isCancelled)
        clock.set(start.plusSeconds(1).plusMillis(999))
        emitted.quiet()

        // take(n) ends the flow by itself too.
        clock.set(start.plusMillis(999))
        val got = Channel<CodeList>(Channel.UNLIMITED)
        val two = launch(Dispatchers.Default) { auth.codesFlow(clock).take(2).collect { got.send(it) } }
        got.next()
        clock.set(start.plusSeconds(1).plusMillis(999))
        got.next()
        withTimeout(patience) { two.join() }
        assertTrue(two.isCompleted && !two.isCancelled)
    }

    @Test
    fun `with the system clock it ticks at whole seconds`() = withAuthenticator { auth ->
        val ticks = withTimeout(patience) { auth.codesFlow().take(3).toList() }
        val seconds = ticks.map { it.time.epochSecond }
        assertEquals(seconds.sorted().distinct(), seconds, "one emission per second, in order")
        assertTrue(Duration.between(ticks.first().time, ticks.last().time) >= Duration.ofSeconds(2))
    }

    @Test
    fun `the wait is to the next whole second`() {
        assertEquals(1000, millisToNextSecond(Instant.ofEpochSecond(100)))
        assertEquals(1, millisToNextSecond(Instant.ofEpochSecond(100).plusMillis(999)))
        assertEquals(750, millisToNextSecond(Instant.ofEpochSecond(100).plusMillis(250)))
        assertEquals(250, millisToNextSecond(Instant.ofEpochMilli(-250)), "before 1970 too")
    }
}
