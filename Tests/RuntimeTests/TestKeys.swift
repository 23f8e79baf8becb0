import Foundation
import KokiSecrets

/// The keyring every process in these tests runs with (a test key, sealing synthetic numbers only).
enum TestKeys {
    static let keyring = "k-test wqN2sZqtKEZy2nSx1l3HAbb0ALR/kggpTuwx1h0i8fE=;lookup eUy7vjChxSwr6cXT7ekpf7CSzQqU2462OKYlW+o6af8="
    static let vault = try! MyNumberVault(keyring: keyring)
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
