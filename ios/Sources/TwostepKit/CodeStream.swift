// The authenticator's code list as an `AsyncThrowingStream`, for a codes screen.

import TwostepFFI
import Foundation

extension Authenticator {
    /// The code list now, then at the start of every second of `clock` — so a code that
    /// expires is replaced at the very second its period ends, and the countdowns move every
    /// second.
    ///
    /// Period boundaries always fall on whole seconds of the device clock: the library reads
    /// the device time in whole seconds before it applies the clock correction. Waking at each
    /// whole second therefore wakes at each boundary; a wake-up that comes a little early waits
    /// again rather than yielding the same second twice.
    ///
    /// Cancellation ends it: cancelling the task that iterates it (leaving a `.task { }` view
    /// modifier's view, say) or breaking out of the loop stops the timer, and the stream
    /// finishes. Each element is one `codesAt(time:)` call, a read from memory (the decrypted
    /// vault is kept while unlocked; no disk, no network), so iterating on the main actor is
    /// fine. When the app locks, the next call throws `TwostepError.Locked` and the stream ends
    /// with it (hence a throwing stream).
    ///
    /// - Parameter clock: the clock to follow; nil for the system clock (pass the same
    ///   `ClockSource` given to `Twostep.open`, if any).
    public func codeStream(clock: ClockSource? = nil) -> AsyncThrowingStream<CodeList, Error> {
        AsyncThrowingStream { continuation in
            let ticker = Task {
                let now = { clock?.now() ?? Date() }
                var shown: Int64?
                do {
                    while !Task.isCancelled {
                        let at = now()
                        let second = wholeSecond(at)
                        if second != shown {
                            continuation.yield(try self.codesAt(time: at))
                            shown = second
                        }
                        try await Task.sleep(nanoseconds: nanosecondsToNextSecond(now()))
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in ticker.cancel() }
        }
    }
}

/// The whole second `date` falls in (seconds since 1970, rounded down).
func wholeSecond(_ date: Date) -> Int64 {
    Int64(date.timeIntervalSince1970.rounded(.down))
}

/// Nanoseconds from `date` to the next whole second (1 ms to 1 s).
func nanosecondsToNextSecond(_ date: Date) -> UInt64 {
    let seconds = date.timeIntervalSince1970
    let remaining = 1.0 - (seconds - seconds.rounded(.down))
    return UInt64((max(remaining, 0.001) * 1_000_000_000).rounded(.up))
}
