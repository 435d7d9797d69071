package io.twostep.testing

import io.twostep.ffi.ClockSource
import java.time.Duration
import java.time.Instant
import java.util.concurrent.atomic.AtomicReference

/** A clock the test moves by hand; the library reads it through the `ClockSource` foreign trait. */
class ManualClock(start: Instant = Instant.now()) : ClockSource {
    private val current = AtomicReference(start)

    override fun now(): Instant = current.get()

    fun advance(by: Duration) {
        current.updateAndGet { it.plus(by) }
    }

    fun set(to: Instant) {
        current.set(to)
    }
}
