import ConcurrencyPrimitives
import Foundation

/// Picks the loopback ports brokers are started on.
///
/// They come from below the kernel's ephemeral range (`ip_local_port_range`), never from it:
/// a port in that range can be handed, while a broker is down for a restart test or between
/// the probe and the broker's own bind, to any socket binding port 0 or connecting out (every
/// client and every test-made listener in the same run), and the broker then cannot come back.
/// Below the range only a program choosing that very port explicitly can take it.
///
/// Within one process the ports go round that range from a random start, one after another:
/// two brokers started at the same moment (parallel tests) never probe the same free port and
/// race for it, which would leave one of them, or a restart of it, without its port.
package enum BrokerPort {
    /// The lowest port picked.
    static let lowest = 10_000
    /// Where the next pick starts, as an offset from ``lowest``: random at first, then just past
    /// the last port picked.
    private static let nextOffset = Locked<Int?>(nil)

    /// A loopback port below the ephemeral range that can be bound now (not listened on, not in
    /// `TIME_WAIT`), or one the kernel picks when the range leaves no room below it.
    package static func free() throws(PrivateBrokerError) -> Int {
        if let firstEphemeral = firstEphemeralPort(), firstEphemeral > lowest + 1_000,
            let port = nextBindable(below: firstEphemeral)
        {
            return port
        }
        let probe = try RefusingPort()
        defer { probe.release() }
        return probe.port
    }

    /// The next port at or after the cursor, in `lowest..<end`, that binds now (of up to 1,000 tried).
    private static func nextBindable(below end: Int) -> Int? {
        let count = end - lowest
        return nextOffset.withLock { next in
            var offset = (next ?? Int.random(in: 0..<count)) % count
            defer { next = offset }
            for _ in 0..<1_000 {
                let candidate = lowest + offset
                offset = (offset + 1) % count
                if let probe = try? RefusingPort(port: candidate) {
                    probe.release()
                    return candidate
                }
            }
            return nil
        }
    }

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range`, when it can be read.
    static func firstEphemeralPort() -> Int? {
        guard let range = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return nil }
        return range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
    }
}
