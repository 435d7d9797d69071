import Foundation
import TwostepKit
import XCTest

/// `TwostepError`'s `localizedDescription`, `description` and string interpolation are the
/// library's text, not the case and its fields: what an app that shows or logs an error gets.
/// (The Kotlin tests check every case's text; here the three ways Swift turns an error into
/// text, for cases with and without fields.)
final class ErrorDescriptionTests: XCTestCase {
    func testEveryWayOfPrintingAnErrorGivesTheLibrarysText() {
        let cases: [(TwostepError, String)] = [
            (.InvalidCode(attemptsLeft: 2), "wrong code (2 attempts left)"),
            (.RateLimited(retryAfter: 45), "too many attempts; retry in 45 s"),
            (.Timeout, "the server did not answer in time"),
            (.ServerNotTrusted(detail: "invalid peer certificate: UnknownIssuer"),
             "the server's certificate is not trusted: invalid peer certificate: UnknownIssuer"),
            (.AuthenticationCancelled, "authentication was cancelled"),
        ]
        for (error, text) in cases {
            XCTAssertEqual(error.description, text)
            XCTAssertEqual(error.errorDescription, text)
            XCTAssertEqual(error.localizedDescription, text)
            XCTAssertEqual("\(error)", text)
            XCTAssertEqual((error as Error).localizedDescription, text, "as any Error")
        }
    }

    func testAThrownErrorCarriesTheText() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-errors-\(UUID().uuidString)")
        let app = try await Twostep.open(directory: directory, serverURL: nil, keyStore: MemoryKeyStore())
        do {
            // No server and no sign-in: refused before anything is sent.
            _ = try await app.submitCode(code: "123456")
            XCTFail("submitting a code without a sign-in must fail")
        } catch {
            let twostepError = try XCTUnwrap(error as? TwostepError)
            XCTAssertEqual(error.localizedDescription, twostepError.description)
            XCTAssertFalse(error.localizedDescription.contains("TwostepError"), error.localizedDescription)
        }
    }
}
