import Crypto
import Foundation

/// A dead letter's body at rest: sealed (HPKE, RFC 9180: X25519, HKDF-SHA256, ChaCha20-Poly1305)
/// to the operators' public key, so the workers that write dead letters can seal but never open
/// them, and only the `koki dlq` commands given the private key can. The associated data binds a
/// sealed body to its letter (group, topic, partition, offset): moved to another row it does not
/// open. A sealed body is `0x01 || encapsulated key (32 bytes) || ciphertext and tag`.
public struct DeadLetterSeal: @unchecked Sendable {  // Curve25519 keys are immutable values Crypto has not marked Sendable
    let publicKey: Curve25519.KeyAgreement.PublicKey

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    static var suite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    static let info = Data("koki dead letter v1".utf8)
    static let version: UInt8 = 1

    /// `base64` is the raw 32-byte public key (`koki keys dlq-generate` prints it).
    public init(publicKey base64: String) throws {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
              let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw) else {
            throw Failure("KOKI_DLQ_PUBLIC_KEY is not a 32-byte X25519 public key in base64")
        }
        publicKey = key
    }

    /// `KOKI_DLQ_PUBLIC_KEY`, or nil when it is not set (a worker then keeps no body).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> DeadLetterSeal? {
        guard let text = env["KOKI_DLQ_PUBLIC_KEY"], !text.isEmpty else { return nil }
        return try DeadLetterSeal(publicKey: text)
    }

    public func seal(_ body: [UInt8], letter: String) throws -> Data {
        var sender = try HPKE.Sender(recipientKey: publicKey, ciphersuite: Self.suite, info: Self.info)
        let ciphertext = try sender.seal(body, authenticating: Data(letter.utf8))
        return Data([Self.version]) + sender.encapsulatedKey + ciphertext
    }

    /// A new key pair: the private key (base64, for the operators' file) and the public key
    /// (base64, for the workers' environment).
    public static func generate() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.KeyAgreement.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }
}

/// Opens sealed dead-letter bodies: only for the operators' commands, with the private key from
/// `KOKI_DLQ_PRIVATE_KEY_FILE` (a file readable by its owner alone).
public struct DeadLetterOpener: @unchecked Sendable {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    public init(privateKey base64: String) throws {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw DeadLetterSeal.Failure("the dead-letter private key is not a 32-byte X25519 key in base64")
        }
        privateKey = key
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> DeadLetterOpener {
        guard let path = env["KOKI_DLQ_PRIVATE_KEY_FILE"], !path.isEmpty else {
            throw DeadLetterSeal.Failure("KOKI_DLQ_PRIVATE_KEY_FILE is not set: a dead letter's body opens only with the operators' key")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let mode = attributes?[.posixPermissions] as? Int else {
            throw DeadLetterSeal.Failure("KOKI_DLQ_PRIVATE_KEY_FILE cannot be read")
        }
        guard mode & 0o077 == 0 else {
            throw DeadLetterSeal.Failure("KOKI_DLQ_PRIVATE_KEY_FILE may be read by others (mode \(String(mode, radix: 8))): make it 0600 or 0400")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DeadLetterSeal.Failure("KOKI_DLQ_PRIVATE_KEY_FILE cannot be read")
        }
        return try DeadLetterOpener(privateKey: String(decoding: data, as: UTF8.self))
    }

    public func open(_ sealed: Data, letter: String) throws -> [UInt8] {
        guard sealed.count > 33, sealed.first == DeadLetterSeal.version else {
            throw DeadLetterSeal.Failure("the body is not a sealed dead letter")
        }
        let encapsulated = sealed.subdata(in: 1..<33)
        do {
            var recipient = try HPKE.Recipient(privateKey: privateKey, ciphersuite: DeadLetterSeal.suite, info: DeadLetterSeal.info,
                                               encapsulatedKey: encapsulated)
            return Array(try recipient.open(sealed.subdata(in: 33..<sealed.count), authenticating: Data(letter.utf8)))
        } catch {
            throw DeadLetterSeal.Failure("the body does not open with this key for this letter")
        }
    }
}
