import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A private `mosquitto` on a free loopback port, for the demo and `vbus bridge` without
/// `--broker` (and for tests). It is stopped when ``stop()`` is called or the value goes away.
///
/// Readiness is detected by connecting to the port, never by sleeping.
public final class PrivateBroker: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards (Process is thread-safe
    // for isRunning/terminate/waitUntilExit); the other stored properties are immutable.

    /// Where mosquitto is looked for, in order.
    public static let candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]

    /// The loopback port it listens on.
    public let port: Int
    /// The broker as a URL, `mqtt://127.0.0.1:PORT`.
    public var url: String { "mqtt://127.0.0.1:\(port)" }
    private let process: Process
    private let directory: URL

    /// Starts mosquitto with anonymous access on 127.0.0.1 and waits until it accepts connections.
    /// `extraConfiguration` lines are appended to the generated config (later lines win), e.g.
    /// `set_tcp_nodelay true` for benchmarks.
    public init(extraConfiguration: String = "", timeout: Duration = .seconds(10)) throws(BridgeError) {
        guard let executable = Self.candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw BridgeError(.brokerUnavailable, "mosquitto not found (looked in \(Self.candidates.joined(separator: ", "))): install the mosquitto package")
        }
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-broker-\(getpid())-\(port)")
        let config = directory.appendingPathComponent("mosquitto.conf")
        process = Process()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try """
                listener \(port) 127.0.0.1
                allow_anonymous true
                max_queued_messages 100000
                log_dest none
                \(extraConfiguration)

                """.write(to: config, atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-c", config.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        } catch {
            throw BridgeError(.brokerUnavailable, "cannot start mosquitto: \(error)")
        }
        let deadline = ContinuousClock.now + timeout
        while !Self.accepts(port: port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw BridgeError(.brokerUnavailable, "mosquitto did not accept connections on 127.0.0.1:\(port) within \(timeout)")
            }
            usleep(5_000) // between connection attempts, not as synchronisation
        }
    }

    deinit { stop() }

    /// Stops the broker: SIGTERM, and SIGKILL if it is still running after a second (a child can
    /// inherit a signal mask that blocks SIGTERM, e.g. from a test runner). Idempotent.
    public func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(1)
            while process.isRunning && ContinuousClock.now < deadline { usleep(2_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A loopback port nobody listens on right now (for tests of unreachable brokers).
    public static func unusedPort() throws(BridgeError) -> Int { try freePort() }

    /// A free loopback port: bind to port 0, read it back, close.
    static func freePort() throws(BridgeError) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BridgeError(.brokerUnavailable, "socket() failed: \(errno)") }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw BridgeError(.brokerUnavailable, "cannot find a free loopback port: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
