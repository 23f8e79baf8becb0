import Foundation
import KokiCommands
import KokiSecrets

/// For benchmarks and chaos runs on synthetic data: throwaway key files in `directory`, named by
/// the three variables in the environment returned (for the child processes).
func throwawayMyNumberKeys(in directory: URL, id: String) throws -> [String: String] {
    let files = try MyNumberKeys.generate(keyID: id)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var env: [String: String] = [:]
    for (variable, name, text, mode) in [(MyNumberKeys.sealVariable, "mynumber-seal-keys", files.seal, 0o644),
                                         (MyNumberKeys.openVariable, "mynumber-open-keys", files.open, 0o600),
                                         (MyNumberKeys.lookupVariable, "mynumber-lookup-key", files.lookup, 0o600)] {
        let path = directory.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw fail("cannot write \(path)")
        }
        env[variable] = path
    }
    return env
}

extension MyNumberIntake {
    /// For benchmarks on synthetic data: the configured keys, or throwaway ones.
    static func benchIntake() throws -> MyNumberIntake {
        if let configured = try fromEnvironment() { return configured }
        let files = try MyNumberKeys.generate(keyID: "bench")
        return MyNumberIntake(sealer: try MyNumberSealer(keys: files.seal), lookup: try MyNumberLookup(key: files.lookup))
    }
}
