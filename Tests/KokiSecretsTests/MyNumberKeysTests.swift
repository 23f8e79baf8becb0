import Crypto
import Foundation
import KokiSecrets
import Testing

/// M3: the sealing, opening and lookup keys apart; a sealed value bound to its person.
@Suite("個人番号 sealing")
struct MyNumberKeysTests {
    static let files = try! MyNumberKeys.generate(keyID: "k1")
    static let sealer = try! MyNumberSealer(keys: files.seal)
    static let opener = try! MyNumberOpener(keys: files.open)
    static let lookup = "lookup eUy7vjChxSwr6cXT7ekpf7CSzQqU2462OKYlW+o6af8="

    @Test func theSealerCannotOpenAndAValueOpensOnlyAsItsPerson() throws {
        let sealed = try Self.sealer.seal("123456789018", atenaNo: "0000000001")
        #expect(sealed.hasPrefix("v2:k1:"))
        #expect(!sealed.contains("123456789018") && !sealed.contains("9018"))
        #expect(try Self.sealer.seal("123456789018", atenaNo: "0000000001") != sealed, "a fresh key each time")
        #expect(try Self.opener.open(sealed, atenaNo: "0000000001") == "123456789018")
        let moved = #expect(throws: MyNumberKeys.Failure.self) { try Self.opener.open(sealed, atenaNo: "0000000002") }
        #expect(moved?.description.contains("does not open for this person") == true)
        // The sealing file holds a public key only: as opening keys it opens nothing.
        let publicOnly = try MyNumberOpener(keys: Self.files.seal)
        #expect(throws: MyNumberKeys.Failure.self) { try publicOnly.open(sealed, atenaNo: "0000000001") }
        #expect(MyNumberKeys.keyID(of: sealed) == "k1" && MyNumberKeys.isCurrent(sealed, keyID: "k1"))
    }

    @Test func anAlteredValueOrAnUnknownKeyDoesNotOpen() throws {
        let sealed = try Self.sealer.seal("123456789018", atenaNo: "0000000001")
        var bytes = Data(base64Encoded: String(sealed.dropFirst("v2:k1:".count)))!
        bytes[bytes.count - 5] ^= 0x01
        #expect(throws: MyNumberKeys.Failure.self) { try Self.opener.open("v2:k1:" + bytes.base64EncodedString(), atenaNo: "0000000001") }
        let other = try MyNumberOpener(keys: try MyNumberKeys.generate(keyID: "k2").open)
        let error = #expect(throws: MyNumberKeys.Failure.self) { try other.open(sealed, atenaNo: "0000000001") }
        #expect(error?.description == "sealed under a key the opening keys do not hold")
        // A value's key id is checked like a key file's, and an id not held is never echoed.
        #expect(MyNumberKeys.keyID(of: "v2:123456789018:x") == "123456789018" && MyNumberKeys.keyID(of: "v2:a b:x") == nil)
        let echoed = #expect(throws: MyNumberKeys.Failure.self) { try other.open("v2:123456789018:AAAA", atenaNo: "0000000001") }
        #expect(echoed?.description.contains("123456789018") == false)
        #expect(throws: MyNumberKeys.Failure.self) { try Self.opener.open("123456789018", atenaNo: "0000000001") }
        #expect(throws: MyNumberKeys.Failure.self) { try Self.opener.open("v2:k1:AAAA", atenaNo: "0000000001") }
    }

    /// A value sealed before the keys were separated (AES-256-GCM under the old keyring) opens with
    /// the old key among the opening keys, whatever person is asked for (it was never bound).
    @Test func aValueOfTheOldKeyringOpensWithItsKey() throws {
        let key = Data((0..<32).map { UInt8($0) })
        let box = try AES.GCM.seal(Data("123456789018".utf8), using: SymmetricKey(data: key), authenticating: Data("koki 個人番号 v1".utf8))
        let legacy = "v1:k-old:" + box.combined!.base64EncodedString()
        let split = try MyNumberKeys.split(legacyKeyring: "k-old \(key.base64EncodedString())\n\(Self.lookup)\n", newKeyID: "k-new")
        let opener = try MyNumberOpener(keys: split.open)
        #expect(try opener.open(legacy, atenaNo: "0000000001") == "123456789018")
        #expect(MyNumberKeys.keyID(of: legacy) == "k-old" && !MyNumberKeys.isCurrent(legacy, keyID: "k-old"))
        // The split keeps the lookup key (the hashes stay valid) and seals with the new pair.
        #expect(split.lookup.contains(Self.lookup))
        let resealed = try MyNumberSealer(keys: split.seal).seal("123456789018", atenaNo: "0000000001")
        let reopened = try opener.open(resealed, atenaNo: "0000000001")
        #expect(resealed.hasPrefix("v2:k-new:") && reopened == "123456789018")
        #expect(throws: MyNumberKeys.Failure.self) {
            try MyNumberKeys.split(legacyKeyring: "k-old \(key.base64EncodedString())\n\(Self.lookup)", newKeyID: "k-old")
        }
    }

    @Test func theLookupHashIsKeyed() throws {
        let a = try MyNumberLookup(key: Self.lookup)
        let b = try MyNumberLookup(key: "lookup TjGvS3zZ2VxqZ8cK0e6b0o1XcS1fDq3nY8aHqWc2mAs=")
        #expect(a.hash("123456789018") == a.hash("123456789018"))
        #expect(a.hash("123456789018") != a.hash("123456789020"))
        #expect(a.hash("123456789018") != b.hash("123456789018"))
        #expect(a.hash("123456789018").count == 32)
    }

    static let badFiles: [(String, String)] = [
        ("k1 notbase64!", "not 32 bytes"),
        ("k1 AAAA", "not 32 bytes"),
        ("bad/id 0Bd2nnv1Pc5PRM7tbYd7e2T2mQj0T7H0tWaP3cJxPp8=", "key id"),
        ("k1 0Bd2nnv1Pc5PRM7tbYd7e2T2mQj0T7H0tWaP3cJxPp8=;k1 0Bd2nnv1Pc5PRM7tbYd7e2T2mQj0T7H0tWaP3cJxPp8=", "twice"),
        ("just-one-field", "not '<id> <base64 key>'"),
        ("", "no opening key"),
    ]

    @Test(arguments: badFiles)
    func aBadKeyFileSaysWhatIsWrongAndNeverTheKey(text: String, message: String) {
        let error = #expect(throws: MyNumberKeys.Failure.self) { try MyNumberOpener(keys: text) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "-")")
        #expect(error?.description.contains("0Bd2nnv1") == false)
    }

    /// Each file by its variable; a secret others may read, or any key file others may change,
    /// is refused; the one keyring of before is refused with the way out.
    @Test func eachFileIsReadByItsVariableAndItsModeIsChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String, _ mode: Int) -> String {
            let path = dir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
            return path
        }
        let seal = file("seal", Self.files.seal, 0o644), open = file("open", Self.files.open, 0o644), lookup = file("lookup", Self.lookup, 0o600)
        #expect(try MyNumberOpener.fromEnvironment([:]) == nil && MyNumberIntake.fromEnvironment([:]) == nil)
        let loose = #expect(throws: MyNumberKeys.Failure.self) { try MyNumberOpener.fromEnvironment([MyNumberKeys.openVariable: open]) }
        #expect(loose?.description == "KOKI_MYNUMBER_OPEN_KEYS_FILE may be read by others (mode 644): make it 0600 or 0400")
        chmod(open, 0o600)
        #expect(try MyNumberOpener.fromEnvironment([MyNumberKeys.openVariable: open]) != nil)
        let intake = try MyNumberIntake.required([MyNumberKeys.sealVariable: seal, MyNumberKeys.lookupVariable: lookup])
        #expect(intake.sealer.currentKeyID == "k1")
        chmod(seal, 0o666)
        let writable = #expect(throws: MyNumberKeys.Failure.self) {
            try MyNumberIntake.required([MyNumberKeys.sealVariable: seal, MyNumberKeys.lookupVariable: lookup])
        }
        #expect(writable?.description.contains("may be changed by others") == true)
        #expect(throws: MyNumberKeys.Failure.self) { try MyNumberIntake.required([MyNumberKeys.lookupVariable: lookup]) }
        let legacy = #expect(throws: MyNumberKeys.Failure.self) { try MyNumberOpener.fromEnvironment(["KOKI_MYNUMBER_KEYS_FILE": open]) }
        #expect(legacy?.description.contains("koki keys split") == true)
        #expect(throws: MyNumberKeys.Failure.self) { try MyNumberOpener.fromEnvironment([MyNumberKeys.openVariable: "/nonexistent"]) }
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
