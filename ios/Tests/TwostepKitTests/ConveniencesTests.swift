import Foundation
import TwostepKit
import XCTest

/// The wrapper's conveniences and the key store protocol, without a server.
final class ConveniencesTests: XCTestCase {
    func testErrorsCarryTheLibrarysWaitsAndText() {
        XCTAssertEqual(TwostepError.RateLimited(retryAfter: 30).retryAfter(), 30)
        XCTAssertEqual(TwostepError.RateLimited(retryAfter: 30).description, "too many attempts; retry in 30 s")
        XCTAssertEqual(TwostepError.ResendTooSoon(retryAfter: 7).retryAfter(), 7)
        XCTAssertNil(TwostepError.Timeout.retryAfter())
        let until = Date(timeIntervalSince1970: 1_900_000_000)
        XCTAssertEqual(TwostepError.PasscodeLockedOut(until: until, retryAfter: 300).nextAttemptAt(), until)
    }

    func testTheMemoryKeyStoreBindsWrappedKeysToTheirLabel() throws {
        let store = MemoryKeyStore()
        let key = Data((0..<32).map { UInt8($0) })
        let wrapped = try store.wrapKey(label: "twostep.local.v1", key: key)
        XCTAssertEqual(try store.unwrapKey(label: "twostep.local.v1", wrapped: wrapped), key)
        XCTAssertThrowsError(try store.unwrapKey(label: "twostep.account.v1", wrapped: wrapped))
    }

    func testADataDirectoryOpensAgainOnlyWithItsOwnKeyStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-swift-\(UUID().uuidString)")
        let server = URL(string: "http://127.0.0.1:9")!
        let keyStore = MemoryKeyStore()
        do {
            let app = try await Twostep.open(directory: directory, serverURL: server, keyStore: keyStore)
            XCTAssertEqual(try app.status().access, .firstAccess)
        }
        let foreign = await expectTwostepError { try await Twostep.open(directory: directory, serverURL: server, keyStore: MemoryKeyStore()) }
        guard case .KeyStore = foreign else { return XCTFail("expected KeyStore, got \(String(describing: foreign))") }
        XCTAssertFalse(libraryVersion().isEmpty)
    }
}
