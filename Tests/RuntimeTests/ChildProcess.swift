import Foundation

/// A child process started with posix_spawn and reaped with waitpid — not Foundation's
/// Process, whose exit notification needs a run loop that async test code does not have
/// (its children stay zombies and `isRunning` stays true). Output goes to a log file.
final class ChildProcess: @unchecked Sendable {  // pid and status touched from one test task
    let name: String
    let pid: pid_t
    let logURL: URL
    private var exitStatus: Int32?

    /// Runs `executable` (a path, or a name in KOKI_TEST_BIN_DIR) with the test's
    /// environment plus `environment`.
    init(_ executable: String, arguments: [String] = [], environment: [String: String], stdin: String? = nil) throws {
        let path = executable.hasPrefix("/") ? executable
            : URL(fileURLWithPath: try Env.require("KOKI_TEST_BIN_DIR")).appendingPathComponent(executable).path
        name = (path as NSString).lastPathComponent
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        var env = ProcessInfo.processInfo.environment
        env.merge(TestKeys.environment(for: name)) { $1 }
        env.merge(environment) { _, new in new }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var input = "/dev/null"
        if let stdin {
            input = FileManager.default.temporaryDirectory.appendingPathComponent("stdin-\(UUID().uuidString)").path
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: input))
        }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnFailed(description: "cannot start \(name): errno \(result)") }
        pid = child
    }

    struct SpawnFailed: Error, CustomStringConvertible { let description: String }

    /// Reaps the child if it has exited.
    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            // Exit code if it exited, 128 + signal if a signal ended it.
            exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return false
        }
        return r == 0
    }

    func signal(_ number: Int32) {
        guard isRunning else { return }
        Foundation.kill(pid, number)
    }

    /// SIGKILL, then wait until the child is reaped.
    func kill() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    func terminate() { signal(SIGTERM) }

    /// Waits for the exit; nil if still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isRunning ? nil : exitStatus
    }

    /// The same, for synchronous callers.
    func waitForExitBlocking() -> Int32 {
        while isRunning { usleep(10_000) }
        return exitStatus ?? -1
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    deinit {
        if isRunning {
            Foundation.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// Runs a command to completion; returns its exit status and output.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String],
                stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> (Int32, String) {
    let child = try ChildProcess(executable, arguments: arguments, environment: environment, stdin: stdin)
    let status = await child.waitForExit(timeout: timeout) ?? -1
    return (status, child.log)
}

/// `GET path` on 127.0.0.1:port; returns the status code and body, or nil if nothing answers.
func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard text.count > 12, let status = Int(text.dropFirst(9).prefix(3)) else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

func httpStatus(port: Int, path: String) -> Int? { httpGet(port: port, path: path)?.status }

func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
