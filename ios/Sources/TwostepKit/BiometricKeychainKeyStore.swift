#if canImport(Security) && canImport(CryptoKit) && canImport(LocalAuthentication)
// Apple platforms only: the Keychain, CryptoKit and LocalAuthentication. On Linux the package
// builds without it.
import CryptoKit
import Foundation
import LocalAuthentication
import Security
import TwostepFFI

/// The biometric key store on iOS, for the option of unlocking with biometrics
/// (`passcode().enableBiometricUnlock()` / `unlockWithBiometrics()`): an AES-256 key in this
/// device's Keychain under a `SecAccessControl` — `.biometryCurrentSet` by default (Face ID or
/// Touch ID as enrolled now: enrolling another face or finger makes the key unreadable, and
/// biometric unlock turns off; the passcode remains), or `.userPresence` (biometrics or the
/// device passcode) — readable only while the device is unlocked, never backed up or synced
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`).
///
/// Every read of the key shows the system prompt with `reason`. Both methods are `async`: the
/// Keychain read that waits for the user runs on a queue of its own, never on the caller's
/// thread or the main actor, and the library awaits it without holding a thread.
///
/// Cancellation: the prompt ends when the user answers or dismisses it (then
/// `TwostepError.AuthenticationCancelled`). Cancelling the app's `Task` that awaits
/// `unlockWithBiometrics()` does not reach the library (uniffi's Swift futures do not observe
/// it, see the README), so it does not dismiss the prompt; if the library itself drops the
/// request, uniffi cancels the task running this store's method and the prompt is dismissed
/// (`LAContext.invalidate()`). Wrapped value: `version | nonce | ciphertext | tag`, the label
/// as associated data (the same layout as `KeychainKeyStore`).
public final class BiometricKeychainKeyStore: PlatformBiometricKeyStore, @unchecked Sendable {
    /// Who may read the key.
    public enum Policy: Sendable {
        /// Biometrics as currently enrolled (`.biometryCurrentSet`). The default.
        case biometryCurrentSet
        /// Biometrics or the device passcode (`.userPresence`); survives new enrollments.
        case userPresence

        var flags: SecAccessControlCreateFlags {
            switch self {
            case .biometryCurrentSet: return .biometryCurrentSet
            case .userPresence: return .userPresence
            }
        }
    }

    private static let version: UInt8 = 1
    private let service: String
    private let account: String
    private let reason: String
    private let policy: Policy
    private let queue = DispatchQueue(label: "io.twostep.biometric-keychain")

    /// - Parameters:
    ///   - reason: what the system prompt says ("Unlock your codes"); the app localizes it.
    ///   - policy: who may read the key (see `Policy`).
    ///   - service, account: where the key is kept in the Keychain.
    public init(
        reason: String,
        policy: Policy = .biometryCurrentSet,
        service: String = "io.twostep.biometric-key",
        account: String = "wrap.v1"
    ) {
        self.reason = reason
        self.policy = policy
        self.service = service
        self.account = account
    }

    public func wrapKey(label: String, key: Data) async throws -> Data {
        try createKeyIfMissing()
        // Read it back through the prompt: biometric unlock is turned on only by someone who
        // can pass it.
        let wrappingKey = try await readKey()
        do {
            let box = try AES.GCM.seal(key, using: wrappingKey, authenticating: Self.aad(label))
            guard let combined = box.combined else {
                throw PlatformKeyError.Failed(detail: "AES-GCM produced no combined box")
            }
            return Data([Self.version]) + combined
        } catch let error as PlatformKeyError {
            throw error
        } catch {
            throw PlatformKeyError.Failed(detail: "wrapping failed: \(error)")
        }
    }

    public func unwrapKey(label: String, wrapped: Data) async throws -> Data {
        guard wrapped.count >= 1 + 12 + 16, wrapped.first == Self.version else {
            throw PlatformKeyError.Rejected(detail: "not a wrapped key")
        }
        let wrappingKey = try await readKey()
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped.dropFirst())
            return try AES.GCM.open(box, using: wrappingKey, authenticating: Self.aad(label))
        } catch CryptoKitError.authenticationFailure {
            throw PlatformKeyError.Rejected(detail: "the wrapped key does not open with this device's key")
        } catch {
            throw PlatformKeyError.Failed(detail: "unwrapping failed: \(error)")
        }
    }

    /// Deletes the key: biometric unlock can never open again (the passcode remains).
    public func deleteKey() throws {
        let status = SecItemDelete(baseQuery() as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.keychainError(status, "deleting the biometric key")
        }
    }

    // MARK: - Keychain

    private static func aad(_ label: String) -> Data {
        Data("twostep/platform-wrap/v1/\(label)".utf8)
    }

    private func baseQuery() -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecUseDataProtectionKeychain as String: true,
        ]
    }

    /// Adds a fresh key under the access control if there is none (adding does not prompt).
    private func createKeyIfMissing() throws {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, policy.flags, &error
        ) else {
            throw PlatformKeyError.Failed(detail: "access control: \(String(describing: error?.takeRetainedValue()))")
        }
        var query = baseQuery()
        query[kSecAttrAccessControl as String] = access
        query[kSecValueData as String] = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let status = SecItemAdd(query as CFDictionary, nil)
        guard status == errSecSuccess || status == errSecDuplicateItem else {
            throw Self.keychainError(status, "creating the biometric key")
        }
    }

    /// Reads the key, which shows the prompt; on the store's queue, cancellable.
    private func readKey() async throws -> SymmetricKey {
        let context = LAContext()
        context.localizedReason = reason
        var query = baseQuery()
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        query[kSecUseAuthenticationContext as String] = context
        let read = query
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SymmetricKey, Error>) in
                queue.async {
                    var item: CFTypeRef?
                    let status = SecItemCopyMatching(read as CFDictionary, &item)
                    switch status {
                    case errSecSuccess:
                        guard let data = item as? Data, data.count == 32 else {
                            continuation.resume(throwing: PlatformKeyError.KeyInvalidated(detail: "the Keychain item is not a 256-bit key"))
                            return
                        }
                        continuation.resume(returning: SymmetricKey(data: data))
                    default:
                        continuation.resume(throwing: Self.keychainError(status, "reading the biometric key"))
                    }
                }
            }
        } onCancel: {
            context.invalidate() // dismisses the prompt; the read ends with errSecUserCanceled
        }
    }

    private static func keychainError(_ status: OSStatus, _ what: String) -> PlatformKeyError {
        let message = (SecCopyErrorMessageString(status, nil) as String?) ?? "OSStatus \(status)"
        switch status {
        case errSecUserCanceled:
            return .Cancelled(detail: "\(what): \(message)")
        case errSecAuthFailed:
            return .NotAuthenticated(detail: "\(what): \(message)")
        case errSecItemNotFound:
            // Gone, or (`.biometryCurrentSet`) unreadable since the enrolled biometrics changed.
            return .KeyInvalidated(detail: "\(what): \(message)")
        case errSecInteractionNotAllowed, errSecNotAvailable:
            return .Unavailable(detail: "\(what): \(message)")
        default:
            return .Failed(detail: "\(what): \(message)")
        }
    }
}
#endif
