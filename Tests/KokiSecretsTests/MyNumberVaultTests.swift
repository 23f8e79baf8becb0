import Foundation
import KokiSecrets
import Testing

@Suite("個人番号 sealing")
struct MyNumberVaultTests {
    static let old = "k-old 0Bd2nnv1Pc5PRM7tbYd7e2T2mQj0T7H0tWaP3cJxPp8="
    static let new = "k-new TjGvS3zZ2VxqZ8cK0e6b0o1XcS1fDq3nY8aHqWc2mAs="
    static let lookup = "lookup eUy7vjChxSwr6cXT7ekpf7CSzQqU2462OKYlW+o6af8="

    @Test func sealsAndOpensWithoutShowingTheDigits() throws {
        let vault = try MyNumberVault(keyring: [Self.old, Self.lookup].joined(separator: "\n"))
        let sealed = try vault.seal("123456789018")
        #expect(sealed.hasPrefix("v1:k-old:"))
        #expect(!sealed.contains("123456789018") && !sealed.contains("9018"))
        #expect(try vault.open(sealed) == "123456789018")
        #expect(try vault.seal("123456789018") != sealed, "a fresh nonce each time")
        #expect(MyNumberVault.keyID(of: sealed) == "k-old")
    }

    @Test func anAlteredValueOrAnUnknownKeyDoesNotOpen() throws {
        let vault = try MyNumberVault(keyring: [Self.old, Self.lookup].joined(separator: ";"))
        let sealed = try vault.seal("123456789018")
        var bytes = Data(base64Encoded: String(sealed.dropFirst("v1:k-old:".count)))!
        bytes[bytes.count / 2] ^= 0x01
        let altered = "v1:k-old:" + bytes.base64EncodedString()
        #expect(throws: MyNumberVault.Failure.self) { try vault.open(altered) }
        let other = try MyNumberVault(keyring: [Self.new, Self.lookup].joined(separator: ";"))
        let error = #expect(throws: MyNumberVault.Failure.self) { try other.open(sealed) }
        #expect(error?.description.contains("k-old") == true)
        #expect(throws: MyNumberVault.Failure.self) { try vault.open("123456789018") }
    }

    @Test func rotationSealsWithTheFirstKeyAndOpensWithAny() throws {
        let before = try MyNumberVault(keyring: [Self.old, Self.lookup].joined(separator: "\n"))
        let after = try MyNumberVault(keyring: [Self.new, Self.old, Self.lookup].joined(separator: "\n"))
        let sealedBefore = try before.seal("123456789018")
        #expect(after.currentKeyID == "k-new")
        #expect(try after.open(sealedBefore) == "123456789018")
        #expect(MyNumberVault.keyID(of: try after.seal("123456789018")) == "k-new")
        #expect(before.lookupHash("123456789018") == after.lookupHash("123456789018"), "the same lookup key, the same hash")
    }

    @Test func theLookupHashIsKeyed() throws {
        let a = try MyNumberVault(keyring: [Self.old, Self.lookup].joined(separator: "\n"))
        let b = try MyNumberVault(keyring: [Self.old, "lookup TjGvS3zZ2VxqZ8cK0e6b0o1XcS1fDq3nY8aHqWc2mAs="].joined(separator: "\n"))
        #expect(a.lookupHash("123456789018") == a.lookupHash("123456789018"))
        #expect(a.lookupHash("123456789018") != a.lookupHash("123456789020"))
        #expect(a.lookupHash("123456789018") != b.lookupHash("123456789018"))
        #expect(a.lookupHash("123456789018").count == 32)
    }

    static let badKeyrings: [(String, String)] = [
        ("", "no 'lookup' entry"),
        (lookup, "no encryption key"),
        ("k1 notbase64!;" + lookup, "not 32 bytes"),
        ("k1 AAAA;" + lookup, "not 32 bytes"),
        ("bad/id 0Bd2nnv1Pc5PRM7tbYd7e2T2mQj0T7H0tWaP3cJxPp8=;" + lookup, "key id"),
        ([old, old, lookup].joined(separator: ";"), "twice"),
        ("just-one-field", "not '<id> <base64 key>'"),
    ]

    @Test(arguments: badKeyrings)
    func aBadKeyringSaysWhatIsWrongAndNeverTheKey(keyring: String, message: String) {
        let error = #expect(throws: MyNumberVault.Failure.self) { try MyNumberVault(keyring: keyring) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "-")")
        #expect(error?.description.contains("0Bd2nnv1") == false)
    }

    @Test func theEnvironmentNamesAFileOrTheTextOrNothing() throws {
        #expect(try MyNumberVault.fromEnvironment([:]) == nil)
        #expect(throws: MyNumberVault.Failure.self) { try MyNumberVault.required([:]) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try Data(MyNumberVault.generateKeyring(keyID: "k9").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // A keyring others may read is refused (M3), by its mode, without reading the keys out.
        chmod(file.path, 0o644)
        do {
            _ = try MyNumberVault.fromEnvironment(["KOKI_MYNUMBER_KEYS_FILE": file.path])
            Issue.record("a keyring file others may read was used")
        } catch let error as MyNumberVault.Failure {
            #expect(error.description == "KOKI_MYNUMBER_KEYS_FILE may be read by others (mode 644): make it 0600 or 0400")
        }
        chmod(file.path, 0o600)
        #expect(try MyNumberVault.fromEnvironment(["KOKI_MYNUMBER_KEYS_FILE": file.path])?.currentKeyID == "k9")
        #expect(try MyNumberVault.fromEnvironment(["KOKI_MYNUMBER_KEYS": [Self.new, Self.lookup].joined(separator: ";")])?.currentKeyID == "k-new")
        #expect(throws: MyNumberVault.Failure.self) { try MyNumberVault.fromEnvironment(["KOKI_MYNUMBER_KEYS_FILE": "/nonexistent"]) }
    }
}

/// H4: a dead letter's body is sealed to the operators' key; the workers can seal, not open.
@Suite("Dead-letter seal")
struct DeadLetterSealTests {
    @Test func sealedBodiesOpenOnlyWithThePrivateKeyAndForTheirLetter() throws {
        let (privateKey, publicKey) = DeadLetterSeal.generate()
        let seal = try DeadLetterSeal(publicKey: publicKey)
        let body = Array(#"{"myNumber":"123456789018","nameKanji":"試験 花子"}"#.utf8)
        let sealed = try seal.seal(body, letter: "g|t|0|5")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("123456789018"))
        #expect(try seal.seal(body, letter: "g|t|0|5") != sealed, "a fresh key per body")
        let opener = try DeadLetterOpener(privateKey: privateKey)
        #expect(try opener.open(sealed, letter: "g|t|0|5") == body)
        #expect(throws: DeadLetterSeal.Failure.self) { try opener.open(sealed, letter: "g|t|0|6") }
        let other = try DeadLetterOpener(privateKey: DeadLetterSeal.generate().privateKey)
        #expect(throws: DeadLetterSeal.Failure.self) { try other.open(sealed, letter: "g|t|0|5") }
        #expect(throws: DeadLetterSeal.Failure.self) { try DeadLetterSeal(publicKey: "not a key") }
    }

    @Test func thePrivateKeyFileMustBeTheOwnersAlone() throws {
        let path = NSTemporaryDirectory() + "dlq-key-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(DeadLetterSeal.generate().privateKey.utf8),
                                       attributes: [.posixPermissions: 0o644])
        #expect(throws: DeadLetterSeal.Failure.self) { try DeadLetterOpener.fromEnvironment(["KOKI_DLQ_PRIVATE_KEY_FILE": path]) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        _ = try DeadLetterOpener.fromEnvironment(["KOKI_DLQ_PRIVATE_KEY_FILE": path])
    }
}
