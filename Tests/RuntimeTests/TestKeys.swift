import Foundation
import KokiSecrets

/// The 個人番号 keys these tests run with (made once per test process; synthetic numbers only),
/// as objects and as the three files, each executable given only the files it needs.
enum TestKeys {
    static let files = try! MyNumberKeys.generate(keyID: "k-test")
    static let sealer = try! MyNumberSealer(keys: files.seal)
    static let opener = try! MyNumberOpener(keys: files.open)
    static let lookup = try! MyNumberLookup(key: files.lookup)
    static let intake = MyNumberIntake(sealer: sealer, lookup: lookup)

    /// The three files, written once per test process (the public key 0644, the secrets 0600).
    static let paths: (seal: String, open: String, lookup: String) = {
        let directory = NSTemporaryDirectory() + "koki-test-mynumber-keys-\(getpid())/"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String, _ mode: Int) -> String {
            let path = directory + name
            try? FileManager.default.removeItem(atPath: path)
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
            return path
        }
        return (write("seal", files.seal, 0o644), write("open", files.open, 0o600), write("lookup", files.lookup, 0o600))
    }()

    /// What each executable gets: the resident worker seals and hashes, the relay opens, the
    /// operators' CLI does all three; the other workers get no 個人番号 key at all.
    static func environment(for executable: String) -> [String: String] {
        switch executable {
        case "koki-resident-worker": [MyNumberKeys.sealVariable: paths.seal, MyNumberKeys.lookupVariable: paths.lookup]
        case "koki-relay": [MyNumberKeys.openVariable: paths.open]
        case "koki", "koki-dev": [MyNumberKeys.sealVariable: paths.seal, MyNumberKeys.openVariable: paths.open, MyNumberKeys.lookupVariable: paths.lookup]
        default: [:]
        }
    }
}

/// The operators' dead-letter key pair for these tests: the workers seal to the public key, the
/// `koki dlq` commands open with the private key file (written 0600 once per test process).
enum TestDeadLetterKeys {
    static let pair = DeadLetterSeal.generate()
    static let seal = try! DeadLetterSeal(publicKey: pair.publicKey)
    static let opener = try! DeadLetterOpener(privateKey: pair.privateKey)
    static let privateKeyFile: String = {
        let path = NSTemporaryDirectory() + "koki-test-dlq-key-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        FileManager.default.createFile(atPath: path, contents: Data(pair.privateKey.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }()
    /// What a process needs: the workers the public key, the CLI the private key file.
    static var environment: [String: String] {
        ["KOKI_DLQ_PUBLIC_KEY": pair.publicKey, "KOKI_DLQ_PRIVATE_KEY_FILE": privateKeyFile]
    }
}
