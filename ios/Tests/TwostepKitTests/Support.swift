import CryptoKit
import Foundation
import TwostepKit
import XCTest

/// A platform key store whose wrapping key lives in memory: one instance is one device.
final class MemoryKeyStore: PlatformKeyStore, @unchecked Sendable {
    private let key = SymmetricKey(size: .bits256)

    func wrapKey(label: String, key data: Data) throws -> Data {
        let box = try AES.GCM.seal(data, using: key, authenticating: Data(label.utf8))
        guard let combined = box.combined else { throw PlatformKeyError.Failed(detail: "no combined box") }
        return combined
    }

    func unwrapKey(label: String, wrapped: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key, authenticating: Data(label.utf8))
        } catch {
            throw PlatformKeyError.Rejected(detail: "does not open with this key store")
        }
    }
}

/// A clock the test moves by hand.
final class ManualClock: Clock, @unchecked Sendable {
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
