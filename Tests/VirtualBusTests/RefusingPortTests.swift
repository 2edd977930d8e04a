import BrokerLauncher
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The ports tests use: an unreachable broker's (a held ``RefusingPort`` refuses connections, and
/// no broker started meanwhile can take it), and the brokers' own, which no socket binding port 0 or
/// connecting out can be handed while a broker is down for a restart.
@Suite("Test ports: a refusing port nobody can take while held, broker ports outside the ephemeral range")
struct RefusingPortTests {
    @Test("a connection to it is refused; a listener cannot bind it until it is released")
    func refusesAndIsKept() throws {
        let nobody = try RefusingPort()
        #expect(Self.connect(to: nobody.port) == ECONNREFUSED)
        // mosquitto and NIO bind with SO_REUSEADDR; even so the held port is theirs only after release.
        #expect(Self.bindAndListen(on: nobody.port) == EADDRINUSE)
        nobody.release()
        nobody.release()  // idempotent
        #expect(Self.bindAndListen(on: nobody.port) == 0)
    }

    @Test(
        """
        brokers get ports below the kernel's ephemeral range, which no client or port-0 bind is handed, and \
        no two picks at once in one process get the same port
        """)
    func brokerPortsAvoidTheEphemeralRange() async throws {
        let range = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let firstEphemeral = try #require(range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) })
        try #require(firstEphemeral > 11_000, "this machine's ephemeral range starts at \(firstEphemeral)")
        // Parallel tests start brokers at the same moment: each must be handed a port of its own.
        let ports = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 { group.addTask { try BrokerPort.free() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ports).count == ports.count, "\(ports.sorted())")
        #expect(ports.allSatisfy { (10_000..<firstEphemeral).contains($0) }, "\(ports.sorted())")
    }

    /// Connects a TCP socket to 127.0.0.1:`port`: 0 on success, else the errno.
    static func connect(to port: Int) -> Int32 {
        withSocket { descriptor in
            var address = loopback(port)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 ? 0 : errno
                }
            }
        }
    }

    /// Binds (with SO_REUSEADDR, as brokers do) and listens on 127.0.0.1:`port`: 0 or the errno.
    static func bindAndListen(on port: Int) -> Int32 {
        withSocket { descriptor in
            var reuse: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
            var address = loopback(port)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && listen(descriptor, 1) == 0
                        ? 0 : errno
                }
            }
        }
    }

    private static func withSocket(_ body: (Int32) -> Int32) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        return body(descriptor)
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
