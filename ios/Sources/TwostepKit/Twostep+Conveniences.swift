// What apps import: the generated bindings (`Twostep`, `SignInStep`, `TwostepError`, ...)
// plus conveniences where the generated API is awkward in Swift.
//
// The generated API is already Swift-shaped: `async throws` for everything slow, structs
// and enums with associated values, `Date` for times, `TimeInterval` for durations. The
// waits are computed in Rust and exported (`TwostepError.retryAfter()`, `.nextAttemptAt()`,
// `CodePrompt.resendIn(now:)`, `.isExpired(now:)`), and an error's `description` and
// `localizedDescription` are the library's text (the generator makes `TwostepError`
// `CustomStringConvertible` with it: bindings/uniffi-bindgen). `CodeStream.swift` adds the
// code list as an `AsyncThrowingStream`; `BiometricKeychainKeyStore.swift` the biometric
// key store.
//
// Cancellation: uniffi's Swift futures do not observe `Task` cancellation. Cancelling the
// task that awaits a call neither stops the operation nor ends the wait: the call returns (or
// throws) when the library has finished, and local state matches what the server saw. Check
// `Task.isCancelled` after the call if the result is no longer wanted.

@_exported import TwostepFFI
import Foundation
#if canImport(UIKit)
import UIKit
#endif

extension Twostep {
    #if canImport(Security) && canImport(CryptoKit)
    /// Opens (creating on first use) the twostep state in `directory` for `serverURL` (nil:
    /// the server this directory last signed in to; the passcode and the authenticator need
    /// none), with the Keychain as key store by default.
    ///
    /// The key store is called on the library's own threads, never the caller's. Keep the
    /// result for the life of the app; release it before opening the same directory again.
    ///
    /// - Parameters:
    ///   - biometricKeyStore: for the option of unlocking with Face ID / Touch ID
    ///     (`passcode().enableBiometricUnlock()`), e.g. `BiometricKeychainKeyStore(reason:)`;
    ///     nil for none.
    ///   - extraCACertificatesPEM: CA certificates (PEM) trusted on top of the system's trust
    ///     settings (which already include profiles and MDM-installed CAs).
    public static func open(
        directory: URL,
        serverURL: URL?,
        keyStore: PlatformKeyStore = KeychainKeyStore(),
        deviceName: String? = nil,
        clock: ClockSource? = nil,
        biometricKeyStore: PlatformBiometricKeyStore? = nil,
        extraCACertificatesPEM: Data? = nil
    ) async throws -> Twostep {
        try await openWith(directory, serverURL, keyStore, deviceName, clock, biometricKeyStore, extraCACertificatesPEM)
    }
    #else
    /// Opens (creating on first use) the twostep state in `directory` for `serverURL` (nil:
    /// the server this directory last signed in to). Without the Keychain (Linux) the caller
    /// brings the key store.
    public static func open(
        directory: URL,
        serverURL: URL?,
        keyStore: PlatformKeyStore,
        deviceName: String? = nil,
        clock: ClockSource? = nil,
        biometricKeyStore: PlatformBiometricKeyStore? = nil,
        extraCACertificatesPEM: Data? = nil
    ) async throws -> Twostep {
        try await openWith(directory, serverURL, keyStore, deviceName, clock, biometricKeyStore, extraCACertificatesPEM)
    }
    #endif

    private static func openWith(
        _ directory: URL,
        _ serverURL: URL?,
        _ keyStore: PlatformKeyStore,
        _ deviceName: String?,
        _ clock: ClockSource?,
        _ biometricKeyStore: PlatformBiometricKeyStore?,
        _ extraCACertificatesPEM: Data?
    ) async throws -> Twostep {
        let name: String
        if let deviceName {
            name = deviceName
        } else {
            name = await Twostep.defaultDeviceName()
        }
        let config = TwostepConfig(
            dataDir: directory.path,
            serverUrl: serverURL?.absoluteString,
            deviceName: name,
            extraCaCertPem: extraCACertificatesPEM
        )
        return try await Twostep.open(config: config, keyStore: keyStore, clock: clock, biometricKeyStore: biometricKeyStore)
    }

    /// `Application Support/twostep`, created and excluded from backups (a restored
    /// backup could not be opened on another device anyway: its keys are in this
    /// device's Keychain).
    public static func defaultDirectory() throws -> URL {
        var url = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("twostep", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        #if canImport(Darwin)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
        #endif
        return url
    }

    /// The name this device registers under. `UIDevice` belongs to the main actor, so this hops
    /// there (and back); since iOS 16 it is the model ("iPhone") unless the app has the
    /// user-assigned-device-name entitlement.
    public static func defaultDeviceName() async -> String {
        #if canImport(UIKit)
        return await MainActor.run { UIDevice.current.name }
        #elseif os(macOS)
        return Host.current().localizedName ?? "Mac"
        #else
        return ProcessInfo.processInfo.hostName
        #endif
    }
}
