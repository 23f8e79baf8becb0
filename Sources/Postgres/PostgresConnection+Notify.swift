internal import CLibpq
import Foundation
import KokiBase

extension PostgresConnection {
    /// Starts listening on a channel (a fixed identifier chosen by code).
    public func listen(_ channel: String) throws {
        try executeScript(unsafeSQL: "LISTEN \(SQL.quoteIdentifier(channel))")
    }

    /// Waits up to `timeout` for notifications and returns their channels (empty on time-out).
    /// Must run on the connection's thread; it blocks that thread while waiting.
    public func waitForNotifications(timeout: Duration) throws -> [String] {
        try withNativeConnection { conn in
            var channels = Self.drainNotifications(conn)
            if !channels.isEmpty { return channels }
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeout.clampedMilliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError(.connection, "waiting for notifications", connectionLost: true)
            }
            if PQconsumeInput(conn) == 0 {
                throw PostgresError(.connection, "reading notifications", connectionLost: true,
                                    serverMessage: String(cString: PQerrorMessage(conn)))
            }
            channels = Self.drainNotifications(conn)
            return channels
        }
    }

    static func drainNotifications(_ conn: OpaquePointer) -> [String] {
        var channels: [String] = []
        while let notification = PQnotifies(conn) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }
}
