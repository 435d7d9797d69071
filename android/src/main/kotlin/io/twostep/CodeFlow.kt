package io.twostep

import io.twostep.ffi.Authenticator
import io.twostep.ffi.ClockSource
import io.twostep.ffi.CodeList
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import java.time.Instant

/**
 * The authenticator's code list for a codes screen: now, then at the start of every second
 * of [clock] — so a code that expires is replaced at the very second its period ends, and
 * the countdowns move every second.
 *
 * Period boundaries always fall on whole seconds of the device clock: the library reads the
 * device time in whole seconds before it applies the clock correction (a second of the
 * device clock is a second of corrected time). Waking at each whole second therefore wakes
 * at each boundary; a wake-up that comes a little early (the delay's clock is not the wall
 * clock) waits again rather than emitting the same second twice.
 *
 * Cold and cancellable: it runs while collected and stops when the collector's scope is
 * cancelled (`collectLatest`/`stateIn` in a `viewModelScope` stop with the screen). Each
 * emission is one [Authenticator.codesAt] call, a read from memory (the decrypted vault is
 * kept while unlocked; no disk, no network), so collecting on `Dispatchers.Main` is fine.
 * When the app locks, the next call throws `TwostepException.Locked` and the flow ends with
 * it: `catch` it and show the lock screen.
 *
 * @param clock the clock to follow; leave out for the system clock (pass the same
 *   `ClockSource` given to `Twostep.open`, if any).
 */
fun Authenticator.codesFlow(clock: ClockSource? = null): Flow<CodeList> = flow {
    val now = { clock?.now() ?: Instant.now() }
    var shown: Long? = null
    while (true) {
        val at = now()
        if (at.epochSecond != shown) {
            emit(codesAt(at))
            shown = at.epochSecond
        }
        delay(millisToNextSecond(now()))
    }
}

/** Milliseconds from [now] to the next whole second (1 to 1000). */
internal fun millisToNextSecond(now: Instant): Long = 1_000L - Math.floorMod(now.toEpochMilli(), 1_000L)
