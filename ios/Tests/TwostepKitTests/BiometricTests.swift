import Foundation
import TwostepKit
import XCTest

/// Biometric unlock through the async foreign trait, from Swift: a `PlatformBiometricKeyStore`
/// whose `async` "prompt" awaits before it answers as the test says (approve, cancel, fail) —
/// as `BiometricKeychainKeyStore` awaits the Keychain read that shows Face ID. The real
/// library awaits it; a refused prompt changes nothing and the passcode still works.
final class BiometricTests: XCTestCase {
    private let pin = "482915"

    /// What the simulated user does at the next prompt.
    enum Answer { case approve, cancel, fail }

    /// Wraps with an in-memory key store after a prompt that answers with `answer`.
    final class SimulatedPrompt: PlatformBiometricKeyStore, @unchecked Sendable {
        private let keys = MemoryKeyStore()
        private let lock = NSLock()
        private var next: Answer = .approve
        private var prompts = 0

        var answer: Answer {
            get { lock.lock(); defer { lock.unlock() }; return next }
            set { lock.lock(); next = newValue; lock.unlock() }
        }

        var shown: Int {
            lock.lock()
            defer { lock.unlock() }
            return prompts
        }

        private func prompt() async throws {
            lock.lock()
            prompts += 1
            lock.unlock()
            try await Task.sleep(nanoseconds: 20_000_000) // the user looks at it
            switch answer {
            case .approve: return
            case .cancel: throw PlatformKeyError.Cancelled(detail: "the user closed the prompt")
            case .fail: throw PlatformKeyError.NotAuthenticated(detail: "too many attempts")
            }
        }

        func wrapKey(label: String, key: Data) async throws -> Data {
            try await prompt()
            return try keys.wrapKey(label: label, key: key)
        }

        func unwrapKey(label: String, wrapped: Data) async throws -> Data {
            try await prompt()
            return try keys.unwrapKey(label: label, wrapped: wrapped)
        }
    }

    private func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("twostep-biometric-\(UUID().uuidString)")
    }

    func testUnlocksWhenApprovedAndChangesNothingWhenRefused() async throws {
        let prompt = SimulatedPrompt()
        let app = try await Twostep.open(
            directory: directory(), serverURL: nil, keyStore: MemoryKeyStore(), biometricKeyStore: prompt
        )
        let passcode = app.passcode()
        try await passcode.set(passcode: pin)
        try await passcode.enableBiometricUnlock()
        XCTAssertEqual(prompt.shown, 1, "turning it on asks the user once")
        XCTAssertTrue(try passcode.state().biometricUnlock)
        try passcode.lock()

        prompt.answer = .cancel
        let cancelled = await expectTwostepError { try await passcode.unlockWithBiometrics() }
        XCTAssertEqual(cancelled, .AuthenticationCancelled)
        prompt.answer = .fail
        let failed = await expectTwostepError { try await passcode.unlockWithBiometrics() }
        guard case .AuthenticationFailed = failed else { return XCTFail("expected AuthenticationFailed, got \(String(describing: failed))") }
        let state = try passcode.state()
        XCTAssertEqual(state.status, .locked)
        XCTAssertEqual(state.failedAttempts, 0, "a refused prompt is not a wrong passcode")

        prompt.answer = .approve
        try await passcode.unlockWithBiometrics()
        XCTAssertEqual(try passcode.state().status, .unlocked)
        XCTAssertTrue(try app.authenticator().accounts().isEmpty, "the account data is open")
    }

    func testWithoutABiometricKeyStoreTheOptionIsRefused() async throws {
        let app = try await Twostep.open(directory: directory(), serverURL: nil, keyStore: MemoryKeyStore())
        try await app.passcode().set(passcode: pin)
        let refused = await expectTwostepError { try await app.passcode().enableBiometricUnlock() }
        guard case .InvalidInput(let field, _) = refused else { return XCTFail("expected InvalidInput") }
        XCTAssertEqual(field, "biometric_key_store")
    }
}
