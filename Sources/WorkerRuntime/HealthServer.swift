import Foundation
import Synchronization

/// A small HTTP/1.1 listener for probes and scraping: `GET /livez`, `/readyz`, `/metrics`.
/// One connection at a time on its own thread; each response closes the connection.
public final class HealthServer: Sendable {
    public let port: Int
    private let socket: Int32
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Binds `0.0.0.0:port` (port 0: any free port, see `port`).
    public init(port: Int, status: WorkerStatus, metrics: @escaping @Sendable () -> String) throws {
        let fd = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HealthServerError(message: "cannot open a socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw HealthServerError(message: "cannot listen on port \(port)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.socket = fd
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 200) > 0 else { continue }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { continue }
                HealthServer.serve(client, status: status, metrics: metrics)
                close(client)
            }
            finished.signal()
        }
        thread.name = "koki-health"
        thread.start()
    }

    public func stop() {
        if running.exchange(false, ordering: .acquiringAndReleasing) {
            finished.wait()
            close(socket)
        }
    }

    deinit { stop() }

    static func serve(_ client: Int32, status: WorkerStatus, metrics: @Sendable () -> String) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = read(client, &buffer, buffer.count)
        guard n > 0 else { return }
        let requestLine = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = requestLine.split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1].split(separator: "?").first ?? "") : ""
        let (code, body, type): (Int, String, String)
        switch (parts.first.map(String.init), path) {
        case ("GET", "/livez"):
            (code, body, type) = status.isLive ? (200, "ok\n", "text/plain") : (503, "poll loop stalled\n", "text/plain")
        case ("GET", "/readyz"):
            if let reason = status.notReadyReason {
                (code, body, type) = (503, reason + "\n", "text/plain")
            } else {
                (code, body, type) = (200, "ready\n", "text/plain")
            }
        case ("GET", "/metrics"):
            (code, body, type) = (200, metrics(), "text/plain; version=0.0.4")
        case ("GET", _):
            (code, body, type) = (404, "not found\n", "text/plain")
        default:
            (code, body, type) = (405, "method not allowed\n", "text/plain")
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][code] ?? "OK"
        let payload = Array(body.utf8)
        let head = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let response = Array(head.utf8) + payload
        var sent = 0
        while sent < response.count {
            let w = response[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if w <= 0 { break }
            sent += w
        }
    }
}

struct HealthServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { "health server: \(message)" }
}
