#if canImport(Security) && canImport(CryptoKit)
// Apple platforms only: the Keychain and CryptoKit. On Linux (scripts/test-swift.sh) the
// package builds without it; apps there pass their own `PlatformKeyStore`.
import CryptoKit
import Foundation
import Security
import TwostepFFI

/// The platform key store on iOS: wraps the core's data keys with an AES-256-GCM key that
/// lives only in this device's Keychain (`…ThisDeviceOnly`: not in backups, not synced, not on
/// another device), readable only in the states `accessibility` allows.
///
/// Wrapped value: `version (1) | nonce (12) | ciphertext | tag (16)`, the key's label as
/// associated data. The core calls this on its own threads, never the main thread.
///
/// For hardware binding, a Secure Enclave P-256 key can wrap instead
/// (`SecKeyCreateEncryptedData` with `.eciesEncryptionCofactorVariableIVX963SHA256AESGCM`);
/// the core only needs `wrapKey`/`unwrapKey`.
public final class KeychainKeyStore: PlatformKeyStore, @unchecked Sendable {
    /// When the wrapping key can be read, and so when twostep can open its data directory.
    public enum Accessibility: Sendable {
        /// Only while the device is unlocked (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`).
        /// The default: a locked, stolen phone does not yield the key, whatever runs on it.
        /// The core (un)wraps keys when it opens its data directory (`Twostep.open`), when the
        /// passcode is set, changed or entered, and when first access creates the device's
        /// keys; while the device is locked these fail with `TwostepError.KeyStore`
        /// (`PlatformKeyError.Unavailable`). Apps that only use twostep in the foreground lose
        /// nothing.
        case whenUnlocked
        /// From the first unlock after a restart until the next restart, also while locked
        /// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`). Needed only when the app opens
        /// twostep in the background with the screen locked: a background refresh or a
        /// notification service extension answering a sign-in. The key is then readable on a
        /// locked device that has been unlocked once since it booted.
        case afterFirstUnlock

        var attribute: CFString {
            switch self {
            case .whenUnlocked: return kSecAttrAccessibleWhenUnlockedThisDeviceOnly
            case .afterFirstUnlock: return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            }
        }
    }

    private static let version: UInt8 = 1
    private let service: String
    private let account: String
    private let accessGroup: String?
    private let accessibility: Accessibility
    private let lock = NSLock()
    private var accessibilityChecked = false

    /// - Parameters:
    ///   - service, account: where the wrapping key is kept in the Keychain.
    ///   - accessGroup: a shared Keychain access group (app extensions), if any.
    ///   - accessibility: when the key can be read (see `Accessibility`). A key created under
    ///     another setting is moved to this one the first time it is read.
    public init(
        service: String = "io.twostep.platform-key",
        account: String = "wrap.v1",
        accessGroup: String? = nil,
        accessibility: Accessibility = .whenUnlocked
    ) {
        self.service = service
        self.account = account
        self.accessGroup = accessGroup
        self.accessibility = accessibility
    }

    public func wrapKey(label: String, key: Data) throws -> Data {
        let wrappingKey = try existingKey() ?? createKey()
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

    public func unwrapKey(label: String, wrapped: Data) throws -> Data {
        guard wrapped.count >= 1 + 12 + 16, wrapped.first == Self.version else {
            throw PlatformKeyError.Rejected(detail: "not a wrapped key")
        }
        guard let wrappingKey = try existingKey() else {
            throw PlatformKeyError.KeyInvalidated(detail: "the Keychain item holding the wrapping key is gone")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped.dropFirst())
            return try AES.GCM.open(box, using: wrappingKey, authenticating: Self.aad(label))
        } catch CryptoKitError.authenticationFailure {
            throw PlatformKeyError.Rejected(detail: "the wrapped key does not open with this device's key")
        } catch {
            throw PlatformKeyError.Failed(detail: "unwrapping failed: \(error)")
        }
    }

    /// Deletes the wrapping key: every data directory wrapped with it becomes unreadable.
    public func deleteWrappingKey() throws {
        let status = SecItemDelete(baseQuery() as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.keychainError(status, "deleting the wrapping key")
        }
    }

    // MARK: - Keychain

    private static func aad(_ label: String) -> Data {
        Data("twostep/platform-wrap/v1/\(label)".utf8)
    }

    private func baseQuery() -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }

    private func existingKey() throws -> SymmetricKey? {
        lock.lock()
        defer { lock.unlock() }
        return try readKey()
    }

    private func readKey() throws -> SymmetricKey? {
        var query = baseQuery()
        query[kSecReturnData as String] = true
        query[kSecReturnAttributes as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let attributes = item as? [String: Any],
                  let data = attributes[kSecValueData as String] as? Data, data.count == 32
            else {
                throw PlatformKeyError.KeyInvalidated(detail: "the Keychain item is not a 256-bit key")
            }
            applyAccessibility(found: attributes[kSecAttrAccessible as String] as? String)
            return SymmetricKey(data: data)
        case errSecItemNotFound:
            return nil
        default:
            throw Self.keychainError(status, "reading the wrapping key")
        }
    }

    /// Moves a key created under another accessibility (an older version's default, or an app
    /// that changed its setting) to the configured one, once per instance. Called with `lock`.
    /// A failed move (say, the device locked meanwhile) does not fail the read that found the
    /// key: the next read tries again.
    private func applyAccessibility(found: String?) {
        guard !accessibilityChecked else { return }
        let wanted = accessibility.attribute as String
        if found == wanted {
            accessibilityChecked = true
            return
        }
        let update = [kSecAttrAccessible as String: wanted] as CFDictionary
        accessibilityChecked = SecItemUpdate(baseQuery() as CFDictionary, update) == errSecSuccess
    }

    private func createKey() throws -> SymmetricKey {
        lock.lock()
        defer { lock.unlock() }
        if let key = try readKey() {
            return key
        }
        let key = SymmetricKey(size: .bits256)
        var query = baseQuery()
        query[kSecAttrAccessible as String] = accessibility.attribute
        query[kSecValueData as String] = key.withUnsafeBytes { Data($0) }
        let status = SecItemAdd(query as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            accessibilityChecked = true
            return key
        case errSecDuplicateItem:
            // Another process added one in between: use that one.
            guard let existing = try readKey() else {
                throw Self.keychainError(status, "creating the wrapping key")
            }
            return existing
        default:
            throw Self.keychainError(status, "creating the wrapping key")
        }
    }

    private static func keychainError(_ status: OSStatus, _ what: String) -> PlatformKeyError {
        let message = (SecCopyErrorMessageString(status, nil) as String?) ?? "OSStatus \(status)"
        switch status {
        case errSecInteractionNotAllowed, errSecNotAvailable:
            // Locked device before the first unlock, or no Keychain at all.
            return .Unavailable(detail: "\(what): \(message)")
        default:
            return .Failed(detail: "\(what): \(message)")
        }
    }
}
#endif
