import Foundation

/// A PostgreSQL server of a test's own (so stopping it disturbs no other suite): initdb
/// in a temp dir, run as `postgres` when the tests run as root.
final class TemporaryPostgres: @unchecked Sendable {  // used from one test task
    let directory: URL
    let port: Int
    let bin: String
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    private init(directory: URL, port: Int, bin: String) {
        self.directory = directory
        self.port = port
        self.bin = bin
    }

    static func start() async throws -> TemporaryPostgres {
        let bin = try Env.require("KOKI_TEST_PG_BIN")
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("koki-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let server = TemporaryPostgres(directory: dir, port: freePort(), bin: bin)
        if getuid() == 0 { try server.run("/bin/chown", ["postgres", dir.path], asPostgres: false) }
        try server.run(bin + "/initdb", ["-D", dir.path + "/data", "-A", "trust", "-U", "postgres", "--no-sync",
                                         "-E", "UTF8", "--locale=C.UTF-8"])
        try server.restart()
        return server
    }

    func restart() throws {
        try run(bin + "/pg_ctl", ["-D", directory.path + "/data", "-l", directory.path + "/log", "-w", "-t", "60", "-o",
                                  "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    func stop() {
        try? run(bin + "/pg_ctl", ["-D", directory.path + "/data", "-m", "fast", "-w", "stop"])
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) throws {
        let child = asPostgres && getuid() == 0
            ? try ChildProcess("/usr/sbin/runuser", arguments: ["-u", "postgres", "--", executable] + arguments, environment: [:])
            : try ChildProcess(executable, arguments: arguments, environment: [:])
        let status = child.waitForExitBlocking()
        guard status == 0 else {
            throw Failed(description: "\((executable as NSString).lastPathComponent) exited \(status)")
        }
    }

    struct Failed: Error, CustomStringConvertible { let description: String }
}
