#if os(macOS) || os(Linux)
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking // URLSession on Linux
#endif
import XCTest

/// The real `twostep-server` binary on 127.0.0.1 with a fresh data directory and the first
/// operator, as the Kotlin tests and the Rust harness use it. The binary comes from
/// `TWOSTEP_SERVER`, else `<repo>/target/debug/twostep-server` (build it with
/// `cargo build -p twostep-server`). Email codes are read from the server's outbox. Runs on
/// macOS and Linux (a process; not on iOS).
final class TestServer {
    static let operatorName = "operator"
    static let operatorPassword = "operator-password-1"
    private static var counter = 0

    let root: URL
    var dataDir: URL { root.appendingPathComponent("server") }
    private var logFile: URL { root.appendingPathComponent("server.log") }
    private var process: Process?
    private(set) var port = 0
    private var operatorToken = ""

    var url: String { "http://127.0.0.1:\(port)" }

    static func unique(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    private static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["TWOSTEP_SERVER"] {
            return URL(fileURLWithPath: path)
        }
        // ios/Tests/TwostepKitTests/TestServer.swift -> repository root
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent("target/debug/twostep-server")
    }

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard let token = try launch(port: 0) else {
            throw TestServerError.failed("a fresh server prints a setup token")
        }
        _ = try await call("POST", "/v1/admin/bootstrap", body: [
            "setup_token": token, "username": Self.operatorName, "password": Self.operatorPassword,
        ], expect: 201)
        try await operatorSignIn()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// Starts the process and returns the setup token, if the server printed one.
    private func launch(port listenPort: Int) throws -> String? {
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:\(listenPort)", "--data-dir", dataDir.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["TWOSTEP_HASH_THREADS": "2", "TWOSTEP_LOG": "warn"]) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process

        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let address = String(text[range])
                port = Int(address.split(separator: ":").last ?? "") ?? 0
                guard let tokenRange = text.range(of: #""setup_token":"[^"\\]+""#, options: .regularExpression) else {
                    return nil
                }
                return String(text[tokenRange].dropFirst(#""setup_token":""#.count).dropLast())
            }
            guard process.isRunning else {
                throw TestServerError.failed("the server exited:\n\(text)")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw TestServerError.failed("the server did not start in time")
    }

    func stop() {
        guard let process else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    /// Starts the stopped server again on the same port and data directory.
    func restart() async throws {
        stop()
        for _ in 0..<50 {
            do {
                _ = try launch(port: port)
                try await operatorSignIn()
                return
            } catch {
                stop()
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        throw TestServerError.failed("the server did not restart")
    }

    func clientDirectory(_ name: String) throws -> URL {
        let url = root.appendingPathComponent("clients/\(name)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    // MARK: - HTTP

    @discardableResult
    func call(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil, expect: Int) async throws -> [String: Any] {
        guard let endpoint = URL(string: url + path) else { throw TestServerError.failed("bad path \(path)") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        if let token {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "authorization")
        }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await Self.send(request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard status == expect else {
            throw TestServerError.failed("\(method) \(path): HTTP \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return json
    }

    /// `URLSession.data(for:)` through the completion-handler API, which Linux's Foundation has
    /// in every version.
    private static func send(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let data, let response {
                    continuation.resume(returning: (data, response))
                } else {
                    continuation.resume(throwing: error ?? TestServerError.failed("no response to \(request)"))
                }
            }.resume()
        }
    }

    private func operatorSignIn() async throws {
        let reply = try await call("POST", "/v1/admin/signin", body: ["username": Self.operatorName, "password": Self.operatorPassword], expect: 200)
        operatorToken = reply["token"] as? String ?? ""
    }

    func createOrg(_ name: String, requireTwoStep: Bool) async throws {
        try await call("POST", "/v1/admin/orgs", token: operatorToken, body: ["name": name, "policy": ["require_two_step": requireTwoStep]], expect: 201)
    }

    func createUser(org: String, username: String, password: String) async throws {
        try await call("POST", "/v1/admin/orgs/\(org)/users", token: operatorToken, body: ["username": username, "password": password], expect: 201)
    }

    func revokeDevices(of username: String) async throws {
        try await call("DELETE", "/v1/admin/users/\(username)/devices", token: operatorToken, expect: 200)
    }

    /// Configures email as the user's second step over HTTP, as on the web portal.
    func enrollEmail(username: String, password: String, email: String) async throws {
        let signIn = try await call("POST", "/v1/signin", body: ["username": username, "password": password, "client": "web"], expect: 200)
        let token: String
        if signIn["status"] as? String == "session", let direct = signIn["token"] as? String {
            token = direct
        } else if let session = signIn["session"] as? [String: Any], let setup = session["token"] as? String {
            token = setup
        } else {
            throw TestServerError.failed("web sign-in of \(username) wants a code")
        }
        try await call("POST", "/v1/me/two-step/email", token: token, body: ["email": email], expect: 200)
        guard let code = latestCode(for: email) else { throw TestServerError.failed("no code for \(email)") }
        try await call("POST", "/v1/me/two-step/email/confirm", token: token, body: ["code": code], expect: 200)
    }

    /// The newest code the server sent to `destination` (outbox files sort by time).
    func latestCode(for destination: String) -> String? {
        let outbox = dataDir.appendingPathComponent("outbox")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted()
        var latest: String?
        for name in names {
            guard let data = try? Data(contentsOf: outbox.appendingPathComponent(name)),
                  let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  json["to"] as? String == destination
            else { continue }
            latest = json["code"] as? String
        }
        return latest
    }
}

enum TestServerError: Error {
    case failed(String)
}
#endif
