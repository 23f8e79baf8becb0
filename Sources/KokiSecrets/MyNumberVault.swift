import Crypto
import Foundation

/// 個人番号 at rest: sealed with AES-256-GCM under a named key, found again through a keyed
/// hash (HMAC-SHA256 under a separate lookup key), opened only where a destination's policy
/// includes it. A sealed value reads `v1:<key id>:<base64 of nonce, ciphertext and tag>`; the
/// key id lets old values be opened after rotation and found by `koki keys rotate`.
///
/// The keyring comes from `KOKI_MYNUMBER_KEYS_FILE` (a file) or `KOKI_MYNUMBER_KEYS` (the same
/// text inline, lines or `;`-separated). Each entry is `<id> <base64 of 32 bytes>`; the first
/// entry other than `lookup` seals, every entry opens, and the entry named `lookup` keys the
/// hash. Nothing here ever prints a key or a number.
public struct MyNumberVault: @unchecked Sendable {  // SymmetricKey is an immutable value Crypto has not marked Sendable
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The key that seals new values.
    public let currentKeyID: String
    private let keys: [String: SymmetricKey]
    private let lookupKey: SymmetricKey

    /// Binds every sealed value to its purpose: a sealed 個人番号 cannot pass for anything else.
    private static let associatedData = Data("koki 個人番号 v1".utf8)
    public static let prefix = "v1:"

    public init(keyring text: String) throws {
        var order: [String] = []
        var keys: [String: SymmetricKey] = [:]
        var lookup: SymmetricKey?
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2 else { throw Failure("a keyring entry is not '<id> <base64 key>'") }
            let (id, encoded) = (parts[0], parts[1])
            guard id.utf8.count <= 32, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw Failure("a key id may hold only ASCII letters, digits, '-' and '_' (at most 32)")
            }
            guard let bytes = Data(base64Encoded: encoded), bytes.count == 32 else {
                throw Failure("key '\(id)' is not 32 bytes in base64")
            }
            if id == "lookup" {
                guard lookup == nil else { throw Failure("the keyring names 'lookup' twice") }
                lookup = SymmetricKey(data: bytes)
                continue
            }
            guard keys[id] == nil else { throw Failure("the keyring names key '\(id)' twice") }
            keys[id] = SymmetricKey(data: bytes)
            order.append(id)
        }
        guard let lookup else { throw Failure("the keyring has no 'lookup' entry (the key of the 個人番号 search hash)") }
        guard let current = order.first else { throw Failure("the keyring has no encryption key") }
        self.currentKeyID = current
        self.keys = keys
        self.lookupKey = lookup
    }

    /// The keyring named by the environment, or nil when neither variable is set.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberVault? {
        if let path = env["KOKI_MYNUMBER_KEYS_FILE"], !path.isEmpty {
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
                  let data = FileManager.default.contents(atPath: path) else {
                throw Failure("KOKI_MYNUMBER_KEYS_FILE names a file that cannot be read")
            }
            // A keyring others may read is no secret (security review M3): refused, not used.
            guard mode & 0o077 == 0 else {
                throw Failure("KOKI_MYNUMBER_KEYS_FILE may be read by others (mode \(String(mode, radix: 8))): make it 0600 or 0400")
            }
            return try MyNumberVault(keyring: String(decoding: data, as: UTF8.self))
        }
        if let inline = env["KOKI_MYNUMBER_KEYS"], !inline.isEmpty { return try MyNumberVault(keyring: inline) }
        return nil
    }

    /// As `fromEnvironment`, but a missing keyring is an error that says what to set.
    public static func required(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberVault {
        guard let vault = try fromEnvironment(env) else {
            throw Failure("no 個人番号 keyring: set KOKI_MYNUMBER_KEYS_FILE (or KOKI_MYNUMBER_KEYS); `koki keys generate` makes one")
        }
        return vault
    }

    /// A fresh keyring with one encryption key and a lookup key.
    public static func generateKeyring(keyID: String) -> String {
        func fresh() -> String { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } }
        return "# koki 個人番号 keyring: the first key seals, every key opens, 'lookup' keys the search hash\n"
            + "\(keyID) \(fresh())\nlookup \(fresh())\n"
    }

    /// Seals the 12 digits under the current key.
    public func seal(_ digits: String) throws -> String {
        let box = try AES.GCM.seal(Data(digits.utf8), using: keys[currentKeyID]!, authenticating: Self.associatedData)
        return Self.prefix + currentKeyID + ":" + box.combined!.base64EncodedString()
    }

    /// Opens a sealed value; fails, without saying more than why, on an unknown key or a
    /// value that was altered.
    public func open(_ sealed: String) throws -> String {
        guard let id = Self.keyID(of: sealed) else { throw Failure("not a sealed 個人番号") }
        guard let key = keys[id] else { throw Failure("sealed under key '\(id)', which the keyring does not hold") }
        let encoded = sealed.dropFirst(Self.prefix.count + id.count + 1)
        guard let combined = Data(base64Encoded: String(encoded)),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let plain = try? AES.GCM.open(box, using: key, authenticating: Self.associatedData) else {
            throw Failure("a sealed 個人番号 under key '\(id)' does not open (altered or the wrong key)")
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The key id a sealed value names, or nil if it is not a sealed value.
    public static func keyID(of sealed: String) -> String? {
        guard sealed.hasPrefix(prefix) else { return nil }
        let rest = sealed.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex else { return nil }
        return String(rest[..<colon])
    }

    public static func isSealed(_ value: String) -> Bool { keyID(of: value) != nil }

    /// The search hash of the 12 digits: equal numbers give equal hashes, and without the
    /// lookup key the hash says nothing about the number.
    public func lookupHash(_ digits: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(digits.utf8), using: lookupKey))
    }
}
