import Foundation
import TwostepKit
import XCTest

/// A platform key store that keeps the keys it wrapped in memory: one instance is one device.
/// A wrapped value is a random handle; it opens only in the store that issued it and only for
/// the label it was wrapped under (no CryptoKit, so the tests run on Linux too).
final class MemoryKeyStore: PlatformKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [Data: (label: String, key: Data)] = [:]

    func wrapKey(label: String, key data: Data) throws -> Data {
        let handle = Data(UUID().uuidString.utf8)
        lock.lock()
        defer { lock.unlock() }
        keys[handle] = (label, data)
        return handle
    }

    func unwrapKey(label: String, wrapped: Data) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = keys[wrapped], entry.label == label else {
            throw PlatformKeyError.Rejected(detail: "does not open with this key store")
        }
        return entry.key
    }
}

/// A clock the test moves by hand.
final class ManualClock: ClockSource, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date()) {
        current = start
    }

    func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(by interval: TimeInterval) {
        lock.lock()
        current = current.addingTimeInterval(interval)
        lock.unlock()
    }

    func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }
}

/// Runs `body` and returns the `TwostepError` it throws; fails the test otherwise.
func expectTwostepError<T>(
    _ body: () async throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) async -> TwostepError? {
    do {
        _ = try await body()
        XCTFail("expected a TwostepError, nothing was thrown", file: file, line: line)
    } catch let error as TwostepError {
        return error
    } catch {
        XCTFail("expected a TwostepError, got \(error)", file: file, line: line)
    }
    return nil
}
