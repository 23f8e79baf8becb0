import Crypto
import Foundation

/// The key of the transfer log's MACs (security review H7): held by the relay, which writes a MAC
/// of each row's seq and hash, and by whoever verifies the log (`koki audit verify
/// --mac-key-file`) — never by the database, so rows rewritten there and rehashed carry MACs that
/// no longer match. 32 random bytes, hex, in a file readable by its owner alone.
public struct AuditMacKey: @unchecked Sendable {  // the key is never mutated after init
    let key: SymmetricKey

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(hex: String) throws {
        let text = hex.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex, let end = text.index(index, offsetBy: 2, limitedBy: text.endIndex),
              let byte = UInt8(text[index..<end], radix: 16) {
            bytes.append(byte)
            index = end
        }
        guard index == text.endIndex, bytes.count == 32 else { throw Failure(description: "the audit MAC key is not 32 bytes in hex") }
        key = SymmetricKey(data: bytes)
    }

    /// A new key, hex.
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    /// The key from `path`, refused when others may read the file.
    public static func load(_ path: String, variable: String) throws -> AuditMacKey {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
              let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "\(variable) cannot be read")
        }
        guard mode & 0o077 == 0 else {
            throw Failure(description: "\(variable) may be read by others (mode \(String(mode, radix: 8))): make it 0600 or 0400")
        }
        return try AuditMacKey(hex: String(decoding: data, as: UTF8.self))
    }

    /// `KOKI_AUDIT_MAC_KEY_FILE`, or nil when it is not set (the log is then chained and
    /// checkpointed, not keyed).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> AuditMacKey? {
        guard let path = env["KOKI_AUDIT_MAC_KEY_FILE"], !path.isEmpty else { return nil }
        return try load(path, variable: "KOKI_AUDIT_MAC_KEY_FILE")
    }

    /// The MAC of a row: HMAC-SHA256 over a versioned text of its seq and hash, hex.
    public func mac(seq: Int64, hash: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("koki-audit-mac-v1\n\(seq)\n\(hash)".utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
    }
}
