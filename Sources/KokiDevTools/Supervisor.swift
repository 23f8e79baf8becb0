import Foundation
import KokiCommands

/// koki's processes as children of `koki-dev dev`: started with posix_spawn (output to a log file
/// each), checked on their health port, stopped with SIGTERM (then SIGKILL after a budget).
final class Supervisor: @unchecked Sendable {  // used from the dev command's task only
    struct Child {
        let name: String
        let pid: pid_t
        let port: Int
        let log: String
        /// Which executable, and the environment it was started with (for a restart).
        let executable: String
        let environment: [String: String]
    }

    private(set) var children: [Child] = []
    let binDirectory: URL
    let logDirectory: URL

    init(binDirectory: URL, logDirectory: URL) {
        self.binDirectory = binDirectory
        self.logDirectory = logDirectory
    }

    /// Starts `executable` (built next to koki); `name` labels it (and its log) when several
    /// replicas run.
    func start(_ executable: String, port: Int, environment: [String: String], name: String? = nil) throws {
        let name = name ?? executable
        let path = binDirectory.appendingPathComponent(executable).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SupervisorError(description: "\(executable) is not built next to koki (\(path)); build every product first")
        }
        let log = logDirectory.appendingPathComponent("\(name).log").path
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        env["KOKI_HTTP_PORT"] = String(port)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [strdup(path), nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard result == 0 else { throw SupervisorError(description: "cannot start \(name): errno \(result)") }
        children.append(Child(name: name, pid: pid, port: port, log: log, executable: executable, environment: environment))
    }

    /// Sends `signal` to the named child and, once it is gone, forgets it; returns it.
    @discardableResult
    func stop(_ name: String, signal: Int32, wait budget: Duration = .seconds(25)) -> Child? {
        guard let index = children.firstIndex(where: { $0.name == name }) else { return nil }
        let child = children.remove(at: index)
        kill(child.pid, signal)
        let deadline = ContinuousClock.now + budget
        var status: Int32 = 0
        while waitpid(child.pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(child.pid, SIGKILL)
                waitpid(child.pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        return child
    }

    /// Starts a stopped child again, as it was.
    func restart(_ child: Child) throws {
        try start(child.executable, port: child.port, environment: child.environment, name: child.name)
    }

    /// Waits until every child answers 200 on /readyz; fails naming the first that does not.
    func waitReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        for child in children {
            while Self.status(port: child.port, path: "/readyz") != 200 {
                if let exit = exited(child) {
                    throw SupervisorError(description: "\(child.name) exited (status \(exit)) before it was ready; see \(child.log)")
                }
                guard ContinuousClock.now < deadline else {
                    throw SupervisorError(description: "\(child.name) is not ready on :\(child.port) after \(timeout); see \(child.log)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The child's exit status if it has exited (reaping it).
    func exited(_ child: Child) -> Int32? {
        var status: Int32 = 0
        return waitpid(child.pid, &status, WNOHANG) == child.pid ? status : nil
    }

    /// A child that has stopped on its own, if any.
    func firstExited() -> Child? { children.first { exited($0) != nil } }

    /// SIGTERM to every child, then SIGKILL to whoever is still there after `budget`.
    func stopAll(budget: Duration = .seconds(25)) {
        for child in children { kill(child.pid, SIGTERM) }
        let deadline = ContinuousClock.now + budget
        var running = Set(children.map(\.pid))
        while !running.isEmpty, ContinuousClock.now < deadline {
            for pid in running {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || r == -1 { running.remove(pid) }
            }
            if !running.isEmpty { usleep(50_000) }
        }
        for pid in running {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        children = []
    }

    /// `GET path` on 127.0.0.1:port; the status code, or nil when nothing answers.
    static func status(port: Int, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), 0) }) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 12 else { return nil }
        let line = String(decoding: buffer[0..<n], as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}

struct SupervisorError: Error, CustomStringConvertible {
    let description: String
}

/// Set by SIGINT or SIGTERM while `koki-dev dev` plays: the play stops at the next day.
final class StopRequest: @unchecked Sendable {  // flag guarded by lock
    private let lock = NSLock()
    private var requested = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            sources.append(source)
        }
    }

    private func set() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }

    /// Waits until a signal arrives.
    func wait() async {
        while !isRequested { try? await Task.sleep(for: .milliseconds(200)) }
    }
}
