import NIOCore
@testable import VirtualBusMQTT

extension MQTTClient {
    /// Closes the TCP connection without DISCONNECT, as a lost network does.
    func dropConnection() async throws {
        guard let channel = core.state.withLock({ $0.channel }) else {
            throw MQTTError(.connectionFailed, "not connected")
        }
        try await channel.close()
    }
}
