import Foundation

/// Picks the loopback ports brokers are started on.
///
/// They come from below the kernel's ephemeral range (`ip_local_port_range`), never from it:
/// a port in that range can be handed, while a broker is down for a restart test or between
/// the probe and the broker's own bind, to any socket binding port 0 or connecting out (every
/// client and every test-made listener in the same run), and the broker then cannot come back.
/// Below the range only a program choosing that very port explicitly can take it.
enum BrokerPort {
    /// The lowest port picked.
    static let lowest = 10_000

    /// A loopback port below the ephemeral range that can be bound now (not listened on, not in
    /// `TIME_WAIT`), or one the kernel picks when the range leaves no room below it.
    static func free() throws(PrivateBrokerError) -> Int {
        if let firstEphemeral = firstEphemeralPort(), firstEphemeral > lowest + 1_000 {
            for _ in 0..<100 {
                let candidate = Int.random(in: lowest..<firstEphemeral)
                if let probe = try? RefusingPort(port: candidate) {
                    probe.release()
                    return candidate
                }
            }
        }
        let probe = try RefusingPort()
        defer { probe.release() }
        return probe.port
    }

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range`, when it can be read.
    static func firstEphemeralPort() -> Int? {
        guard let range = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return nil }
        return range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
    }
}
