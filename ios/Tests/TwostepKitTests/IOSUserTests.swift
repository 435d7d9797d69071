#if os(macOS) || os(Linux)
import Foundation
import TwostepKit
import XCTest

/// "An iOS user": the Swift API over the real library against the real server binary,
/// the same scenario as the Kotlin tests (android/src/test/kotlin). Runs with `swift test`
/// on macOS and on Linux (scripts/test-swift.sh); it starts the server as a process, which an
/// iOS simulator cannot.
final class IOSUserTests: XCTestCase {
    private var server: TestServer!

    override func setUp() async throws {
        server = try await TestServer()
    }

    override func tearDown() async throws {
        server.stop()
        server = nil
    }

    private func open(_ directory: URL, _ keyStore: PlatformKeyStore, clock: ClockSource? = nil) async throws -> Twostep {
        try await Twostep.open(directory: directory, serverURL: URL(string: server.url)!, keyStore: keyStore, deviceName: "iPhone (XCTest)", clock: clock)
    }

    private func user(requireTwoStep: Bool, email: Bool) async throws -> (String, String) {
        let org = TestServer.unique(requireTwoStep ? "policy-org" : "free-org")
        let username = TestServer.unique("user")
        let password = "correct-horse-\(username)"
        try await server.createOrg(org, requireTwoStep: requireTwoStep)
        try await server.createUser(org: org, username: username, password: password)
        if email {
            try await server.enrollEmail(username: username, password: password, email: "\(username)@example.com")
        }
        return (username, password)
    }

    func testFirstAccessUnderTheOrgPolicyNeedsTheEmailCodeAndAPasscodeThenSurvivesARestart() async throws {
        let (username, password) = try await user(requireTwoStep: true, email: true)
        let directory = try server.clientDirectory(username)
        let keyStore = MemoryKeyStore()
        var deviceId = ""

        do {
            let app = try await open(directory, keyStore)
            XCTAssertEqual(try app.status().access, .firstAccess)

            guard case let .codeRequired(prompt) = try await app.signIn(username: username, password: password, client: .mobile) else {
                return XCTFail("expected a code prompt")
            }
            XCTAssertEqual(prompt.channel, .email)
            XCTAssertEqual(prompt.codeLength, 6)
            XCTAssertEqual(prompt.attemptsLeft, 5)
            XCTAssertTrue(prompt.maskedDestination?.contains("•") ?? false)
            XCTAssertFalse(prompt.isExpired(now: Date()))

            let code = try XCTUnwrap(server.latestCode(for: "\(username)@example.com"))
            let wrong = String(code.dropLast()) + (code.last == "0" ? "1" : "0")
            let invalid = await expectTwostepError { try await app.submitCode(code: wrong) }
            XCTAssertEqual(invalid, .InvalidCode(attemptsLeft: 4))

            guard case let .passcodeSetup(requirement, policy, session) = try await app.submitCode(code: code) else {
                return XCTFail("expected the passcode step")
            }
            XCTAssertEqual(requirement, .required)
            XCTAssertGreaterThanOrEqual(policy.minLength, 4)
            deviceId = try XCTUnwrap(session.deviceId)

            let required = await expectTwostepError { try await app.me() }
            XCTAssertEqual(required, .PasscodeRequired)
            let weak = await expectTwostepError { try await app.passcode().set(passcode: "1111") }
            guard case .PasscodeTooWeak = weak else { return XCTFail("expected PasscodeTooWeak, got \(String(describing: weak))") }
            try await app.passcode().set(passcode: "739154")

            let me = try await app.me()
            XCTAssertEqual(me.user.username, username)
            XCTAssertEqual(me.twoStep.origin, .forced)
            XCTAssertTrue(me.twoStep.requiredByOrg)
        }

        // Restart: the first instance is released; open the same directory again.
        let app = try await open(directory, keyStore)
        let locked = try app.status()
        XCTAssertEqual(locked.access, .locked)
        XCTAssertEqual(locked.passcode, .locked)
        let incorrect = await expectTwostepError { try await app.passcode().unlock(passcode: "739155") }
        guard case .PasscodeIncorrect = incorrect else { return XCTFail("expected PasscodeIncorrect") }
        let unlocked = try await app.passcode().unlock(passcode: "739154")
        XCTAssertFalse(unlocked.changeRequired)
        XCTAssertEqual(try app.status().registration?.deviceId, deviceId)
        let session = try await app.openSession()
        XCTAssertEqual(session.deviceId, deviceId)
        let devices = try await app.devices()
        XCTAssertTrue(devices.contains { $0.id == deviceId && !$0.revoked })
    }

    func testAUserWhoChoseTwoStepGetsAnOptionalPasscode() async throws {
        let (username, password) = try await user(requireTwoStep: false, email: true)
        let app = try await open(try server.clientDirectory(username), MemoryKeyStore())
        guard case .codeRequired = try await app.signIn(username: username, password: password, client: .mobile) else {
            return XCTFail("expected a code prompt")
        }
        let code = try XCTUnwrap(server.latestCode(for: "\(username)@example.com"))
        guard case let .passcodeSetup(requirement, _, _) = try await app.submitCode(code: code) else {
            return XCTFail("expected the passcode step")
        }
        XCTAssertEqual(requirement, .optional)
        let me = try await app.me()
        XCTAssertEqual(me.twoStep.origin, .chosen)
    }

    func testErrorsArriveAsThrownTwostepErrors() async throws {
        let (username, password) = try await user(requireTwoStep: false, email: false)
        let app = try await open(try server.clientDirectory(username), MemoryKeyStore())

        let wrong = await expectTwostepError { try await app.signIn(username: username, password: "not-the-password", client: .mobile) }
        XCTAssertEqual(wrong, .InvalidCredentials)
        XCTAssertEqual(try app.status().access, .firstAccess)

        guard case .passcodeSetup = try await app.signIn(username: username, password: password, client: .mobile) else {
            return XCTFail("expected the passcode step")
        }
        try await server.revokeDevices(of: username)
        let revoked = await expectTwostepError { try await app.openSession() }
        XCTAssertEqual(revoked, .DeviceRevoked)
        XCTAssertEqual(try app.status().access, .firstAccess)
    }

    func testAServerThatIsDownArrivesAsOffline() async throws {
        let (username, password) = try await user(requireTwoStep: false, email: false)
        let app = try await open(try server.clientDirectory(username), MemoryKeyStore())
        _ = try await app.signIn(username: username, password: password, client: .mobile)

        server.stop()
        let offline = await expectTwostepError { try await app.openSession() }
        guard case .Offline = offline else { return XCTFail("expected Offline, got \(String(describing: offline))") }

        try await server.restart()
        let session = try await app.openSession()
        XCTAssertEqual(session.username, username)
    }

    func testATestClockDrivesLocalTime() async throws {
        let (username, password) = try await user(requireTwoStep: false, email: false)
        let clock = ManualClock()
        let app = try await open(try server.clientDirectory(username), MemoryKeyStore(), clock: clock)
        _ = try await app.signIn(username: username, password: password, client: .mobile)
        let session = try XCTUnwrap(try app.status().session)
        clock.advance(by: session.expiresAt.timeIntervalSince(clock.now()) + 1)
        let later = try app.status()
        XCTAssertEqual(later.access, .registered)
        XCTAssertNil(later.session)
    }
}
#endif
