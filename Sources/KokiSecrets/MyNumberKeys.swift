import Crypto
import Foundation

/// 個人番号 at rest, with each component holding only the key it needs (security review M3):
///
/// - **sealing** (the resident worker): X25519 public keys, `KOKI_MYNUMBER_SEAL_KEYS_FILE`, lines
///   `<id> <base64 public key>`; the first seals. Sealing is HPKE (RFC 9180: X25519, HKDF-SHA256,
///   ChaCha20-Poly1305) with the person's 宛名番号 as associated data, so a sealed value opens
///   only as that person's: copied to another row it does not open. A public key is no secret,
///   but whoever may replace it may read every new number: the file must not be writable by others.
/// - **opening** (the relay, for a transfer the law gives a 個人番号; the operator's CLI, masked):
///   the private keys, `KOKI_MYNUMBER_OPEN_KEYS_FILE`, lines `<id> <base64 32 bytes>`, owner-only.
///   A key opens the values sealed under its id; values sealed before the keys were separated
///   (`v1:`, AES-256-GCM under the old keyring's keys) open with those keys copied into this file
///   (`koki keys split`) until `koki keys rotate` has re-sealed them.
/// - **lookup** (the resident worker, `koki person --by-my-number`): the HMAC key of the search
///   hash, `KOKI_MYNUMBER_LOOKUP_KEY_FILE`, one line `lookup <base64 32 bytes>`, owner-only.
///
/// A sealed value reads `v2:<key id>:<base64 of the encapsulated key, ciphertext and tag>`.
/// Nothing here prints a key or a number.
public enum MyNumberKeys {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static let sealVariable = "KOKI_MYNUMBER_SEAL_KEYS_FILE"
    public static let openVariable = "KOKI_MYNUMBER_OPEN_KEYS_FILE"
    public static let lookupVariable = "KOKI_MYNUMBER_LOOKUP_KEY_FILE"
    /// The one keyring every component once held: refused, with the way out.
    static let legacyVariables = ["KOKI_MYNUMBER_KEYS_FILE", "KOKI_MYNUMBER_KEYS"]

    public static let prefix = "v2:"
    static let legacyPrefix = "v1:"
    static var suite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    static let info = Data("koki 個人番号 v2".utf8)
    static let legacyAssociatedData = Data("koki 個人番号 v1".utf8)

    /// The key id a sealed value names (either version), or nil if it is not a sealed value (an
    /// id is what a key file may name: ASCII letters, digits, `-` and `_`, at most 32).
    public static func keyID(of sealed: String) -> String? {
        guard sealed.hasPrefix(prefix) || sealed.hasPrefix(legacyPrefix) else { return nil }
        let rest = sealed.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let id = String(rest[..<colon])
        return isKeyID(id) ? id : nil
    }

    static func isKeyID(_ id: String) -> Bool {
        (1...32).contains(id.utf8.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    public static func isSealed(_ value: String) -> Bool { keyID(of: value) != nil }

    /// Whether a sealed value is sealed to the given sealing key, bound to its person.
    public static func isCurrent(_ sealed: String, keyID: String) -> Bool {
        sealed.hasPrefix(prefix + keyID + ":")
    }

    /// `<id> <base64 of 32 bytes>` lines (blank lines and `#` comments skipped), ids unique.
    static func entries(_ text: String, file: String) throws -> [(id: String, bytes: Data)] {
        var result: [(id: String, bytes: Data)] = []
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2 else { throw Failure("\(file): an entry is not '<id> <base64 key>'") }
            let (id, encoded) = (parts[0], parts[1])
            guard isKeyID(id) else {
                throw Failure("\(file): a key id may hold only ASCII letters, digits, '-' and '_' (at most 32)")
            }
            guard let bytes = Data(base64Encoded: encoded), bytes.count == 32 else {
                throw Failure("\(file): key '\(id)' is not 32 bytes in base64")
            }
            guard !result.contains(where: { $0.id == id }) else { throw Failure("\(file): key '\(id)' is named twice") }
            result.append((id, bytes))
        }
        return result
    }

    /// The text of the key file `variable` names, or nil when it is unset. A secret file must be
    /// its owner's alone; any key file must not be writable by others.
    public static func read(_ variable: String, secret: Bool, _ env: [String: String]) throws -> String? {
        for legacy in legacyVariables where !(env[legacy] ?? "").isEmpty {
            throw Failure("\(legacy) (one keyring for every component) is replaced by three key files, each for the component "
                          + "that needs it: \(sealVariable), \(openVariable), \(lookupVariable); `koki keys split` makes them from it")
        }
        guard let path = env[variable], !path.isEmpty else { return nil }
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
              let data = FileManager.default.contents(atPath: path) else {
            throw Failure("\(variable) names a file that cannot be read")
        }
        if secret, mode & 0o077 != 0 {
            throw Failure("\(variable) may be read by others (mode \(String(mode, radix: 8))): make it 0600 or 0400")
        }
        if mode & 0o022 != 0 {
            throw Failure("\(variable) may be changed by others (mode \(String(mode, radix: 8))): make it 0644 or stricter")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func fresh() -> Data { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } }

    /// A new sealing key pair as the lines of the two files.
    public static func newPair(keyID: String) -> (sealLine: String, openLine: String) {
        let key = Curve25519.KeyAgreement.PrivateKey()
        return ("\(keyID) \(key.publicKey.rawRepresentation.base64EncodedString())",
                "\(keyID) \(key.rawRepresentation.base64EncodedString())")
    }

    /// The texts of three new key files.
    public static func generate(keyID: String) throws -> (seal: String, open: String, lookup: String) {
        let (sealLine, openLine) = newPair(keyID: keyID)
        let files = (seal: "# koki 個人番号 sealing keys (public): the first seals\n\(sealLine)\n",
                     open: "# koki 個人番号 opening keys (private): each opens what was sealed under its id\n\(openLine)\n",
                     lookup: "# koki 個人番号 search-hash key\nlookup \(fresh().base64EncodedString())\n")
        _ = try MyNumberSealer(keys: files.seal)  // the id is valid
        return files
    }

    /// The three files from the one keyring every component once held: a new sealing pair (its
    /// id must be new), the old keys kept for opening what they sealed, the lookup key kept (the
    /// hashes stay valid).
    public static func split(legacyKeyring: String, newKeyID: String) throws -> (seal: String, open: String, lookup: String) {
        let old = try entries(legacyKeyring, file: "the keyring")
        guard let lookup = old.first(where: { $0.id == "lookup" }) else { throw Failure("the keyring has no 'lookup' entry") }
        let kept = old.filter { $0.id != "lookup" }
        guard !kept.contains(where: { $0.id == newKeyID }) else { throw Failure("the keyring already has a key '\(newKeyID)': choose a new id") }
        let (sealLine, openLine) = newPair(keyID: newKeyID)
        let open = ([openLine] + kept.map { "\($0.id) \($0.bytes.base64EncodedString())" }).joined(separator: "\n")
        let files = (seal: "# koki 個人番号 sealing keys (public): the first seals\n\(sealLine)\n",
                     open: "# koki 個人番号 opening keys (private): each opens what was sealed under its id\n\(open)\n",
                     lookup: "# koki 個人番号 search-hash key\nlookup \(lookup.bytes.base64EncodedString())\n")
        _ = try MyNumberSealer(keys: files.seal)
        return files
    }
}

/// Seals 個人番号 to the public key first in its file; never opens.
public struct MyNumberSealer: @unchecked Sendable {  // Curve25519 keys are immutable values Crypto has not marked Sendable
    public let currentKeyID: String
    private let key: Curve25519.KeyAgreement.PublicKey

    public init(keys text: String) throws {
        guard let first = try MyNumberKeys.entries(text, file: MyNumberKeys.sealVariable).first else {
            throw MyNumberKeys.Failure("\(MyNumberKeys.sealVariable): no sealing key")
        }
        guard let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: first.bytes) else {
            throw MyNumberKeys.Failure("\(MyNumberKeys.sealVariable): key '\(first.id)' is not an X25519 public key")
        }
        currentKeyID = first.id
        self.key = key
    }

    /// Seals the 12 digits to the current key, bound to the person's 宛名番号.
    public func seal(_ digits: String, atenaNo: String) throws -> String {
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: MyNumberKeys.suite, info: MyNumberKeys.info)
        let ciphertext = try sender.seal(Data(digits.utf8), authenticating: Data(atenaNo.utf8))
        return MyNumberKeys.prefix + currentKeyID + ":" + (sender.encapsulatedKey + ciphertext).base64EncodedString()
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberSealer? {
        try MyNumberKeys.read(MyNumberKeys.sealVariable, secret: false, env).map { try MyNumberSealer(keys: $0) }
    }
}

/// Opens sealed 個人番号 with the private keys of its file.
public struct MyNumberOpener: @unchecked Sendable {  // keys are immutable values Crypto has not marked Sendable
    private let keys: [String: Data]

    public init(keys text: String) throws {
        let entries = try MyNumberKeys.entries(text, file: MyNumberKeys.openVariable)
        guard !entries.isEmpty else { throw MyNumberKeys.Failure("\(MyNumberKeys.openVariable): no opening key") }
        keys = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.bytes) })
    }

    public func holds(keyID: String) -> Bool { keys[keyID] != nil }

    /// Opens a value sealed for the person `atenaNo`; fails, saying no more than why, on an
    /// unknown key, another person's value or an altered one.
    public func open(_ sealed: String, atenaNo: String) throws -> String {
        guard let id = MyNumberKeys.keyID(of: sealed) else { throw MyNumberKeys.Failure("not a sealed 個人番号") }
        // An id the opening keys do not hold is not named: it is the value's text, not a key file's.
        guard let raw = keys[id] else { throw MyNumberKeys.Failure("sealed under a key the opening keys do not hold") }
        guard let combined = Data(base64Encoded: String(sealed.dropFirst(MyNumberKeys.prefix.count + id.count + 1))) else {
            throw MyNumberKeys.Failure("a sealed 個人番号 under key '\(id)' is not base64")
        }
        let plain: Data?
        if sealed.hasPrefix(MyNumberKeys.prefix) {
            plain = combined.count > 32 ? try? {
                let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
                var recipient = try HPKE.Recipient(privateKey: key, ciphersuite: MyNumberKeys.suite, info: MyNumberKeys.info,
                                                   encapsulatedKey: combined.prefix(32))
                return try recipient.open(combined.dropFirst(32), authenticating: Data(atenaNo.utf8))
            }() : nil
        } else {
            plain = try? AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: SymmetricKey(data: raw),
                                      authenticating: MyNumberKeys.legacyAssociatedData)
        }
        guard let plain else {
            throw MyNumberKeys.Failure("a sealed 個人番号 under key '\(id)' does not open for this person (altered, moved or the wrong key)")
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The opening keys the environment names, or nil when it names none.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberOpener? {
        try MyNumberKeys.read(MyNumberKeys.openVariable, secret: true, env).map { try MyNumberOpener(keys: $0) }
    }

    public static func required(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberOpener {
        guard let opener = try fromEnvironment(env) else {
            throw MyNumberKeys.Failure("no 個人番号 opening keys: set \(MyNumberKeys.openVariable) (`koki keys generate` makes them)")
        }
        return opener
    }
}

/// The search hash of a 個人番号 (HMAC-SHA256 under the lookup key): equal numbers give equal
/// hashes; without the key the hash says nothing about the number.
public struct MyNumberLookup: @unchecked Sendable {  // SymmetricKey is immutable; Crypto has not marked it Sendable
    private let key: SymmetricKey

    public init(key text: String) throws {
        let entries = try MyNumberKeys.entries(text, file: MyNumberKeys.lookupVariable)
        guard entries.count == 1, entries[0].id == "lookup" else {
            throw MyNumberKeys.Failure("\(MyNumberKeys.lookupVariable): one line 'lookup <base64 key>' expected")
        }
        key = SymmetricKey(data: entries[0].bytes)
    }

    public func hash(_ digits: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(digits.utf8), using: key))
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberLookup? {
        try MyNumberKeys.read(MyNumberKeys.lookupVariable, secret: true, env).map { try MyNumberLookup(key: $0) }
    }

    public static func required(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberLookup {
        guard let lookup = try fromEnvironment(env) else {
            throw MyNumberKeys.Failure("no 個人番号 lookup key: set \(MyNumberKeys.lookupVariable) (`koki keys generate` makes it)")
        }
        return lookup
    }
}

/// What takes a 個人番号 in (the resident worker, `koki keys rotate`): the sealing key and the
/// lookup key — no opening key.
public struct MyNumberIntake: Sendable {
    public let sealer: MyNumberSealer
    public let lookup: MyNumberLookup

    public init(sealer: MyNumberSealer, lookup: MyNumberLookup) {
        self.sealer = sealer
        self.lookup = lookup
    }

    /// The sealed value and the search hash of a person's 12 digits.
    public func take(_ digits: String, atenaNo: String) throws -> (sealed: String, hash: Data) {
        (try sealer.seal(digits, atenaNo: atenaNo), lookup.hash(digits))
    }

    /// Both keys from the environment, or nil when neither is named.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberIntake? {
        if (env[MyNumberKeys.sealVariable] ?? "").isEmpty && (env[MyNumberKeys.lookupVariable] ?? "").isEmpty {
            _ = try MyNumberKeys.read(MyNumberKeys.sealVariable, secret: false, env)  // the old keyring's variable is named
            return nil
        }
        return try required(env)
    }

    /// Both keys from the environment; a clear failure naming what is missing.
    public static func required(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> MyNumberIntake {
        guard let sealer = try MyNumberSealer.fromEnvironment(env) else {
            throw MyNumberKeys.Failure("no 個人番号 sealing key: set \(MyNumberKeys.sealVariable) (`koki keys generate` makes it)")
        }
        return MyNumberIntake(sealer: sealer, lookup: try MyNumberLookup.required(env))
    }
}
