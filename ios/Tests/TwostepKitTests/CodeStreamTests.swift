import Foundation
import TwostepKit
import XCTest

/// `Authenticator.codeStream`: an element at every second of the clock, one at the very
/// second a period ends, and the end of the stream when its task is cancelled. The test clock
/// is moved by hand and parked just before the next second, so the stream's real waits are a
/// few milliseconds; the assertions are about which seconds were yielded, not about timing.
final class CodeStreamTests: XCTestCase {
    /// A period boundary (a multiple of 30 s).
    private let boundary = Date(timeIntervalSince1970: 1_900_000_020)

    private func authenticator() async throws -> (Twostep, Authenticator) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-stream-\(UUID().uuidString)")
        let app = try await Twostep.open(directory: directory, serverURL: nil, keyStore: MemoryKeyStore())
        let auth = app.authenticator()
        _ = try await auth.addUri(uri: "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC")
        return (app, auth)
    }

    func testItYieldsOncePerSecondAndTheNewCodeAtTheBoundary() async throws {
        let (app, auth) = try await authenticator()
        let clock = ManualClock(boundary.addingTimeInterval(-2 + 0.999))
        var stream = auth.codeStream(clock: clock).makeAsyncIterator()

        let first = try await stream.next()
        XCTAssertEqual(first?.time, boundary.addingTimeInterval(-2))
        XCTAssertEqual(first?.codes.first?.secondsRemaining, 2)

        clock.set(boundary.addingTimeInterval(-1 + 0.999))
        let last = try await stream.next()
        XCTAssertEqual(last?.time, boundary.addingTimeInterval(-1), "the next second, not the same twice")
        XCTAssertEqual(last?.codes.first?.secondsRemaining, 1)

        clock.set(boundary)
        let fresh = try await stream.next()
        XCTAssertEqual(fresh?.time, boundary, "at the boundary itself")
        XCTAssertEqual(fresh?.codes.first?.secondsRemaining, 30)
        XCTAssertEqual(fresh?.codes.first?.code, last?.codes.first?.nextCode)
        XCTAssertEqual(fresh, try auth.codesAt(time: boundary))
        _ = app
    }

    func testCancellingTheTaskEndsTheStream() async throws {
        let (app, auth) = try await authenticator()
        let clock = ManualClock(boundary.addingTimeInterval(0.999))
        let seen = Counter()
        let reader = Task {
            for try await _ in auth.codeStream(clock: clock) {
                await seen.increment()
            }
        }
        var waited = 0
        while await seen.value == 0, waited < 2_000 {
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        XCTAssertEqual(await seen.value, 1)
        reader.cancel()
        try await reader.value // the loop ends: the stream finished when its task was cancelled
        clock.set(boundary.addingTimeInterval(5.999))
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(await seen.value, 1, "nothing after the cancellation")
        _ = app
    }
}

private actor Counter {
    var value = 0

    func increment() {
        value += 1
    }
}
