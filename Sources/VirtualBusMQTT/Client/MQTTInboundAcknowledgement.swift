import Synchronization

/// The handle a manual subscription attaches to one delivered QoS 1/2 message.
///
/// One per delivered copy, so acknowledging the same copy twice counts once. It holds the client
/// weakly: a message kept after its client is gone acknowledges nothing.
final class MQTTInboundAcknowledgement: Sendable {
    private weak let core: ClientCore?
    let packetID: UInt16
    let generation: UInt64
    private let done = Atomic<Bool>(false)

    init(core: ClientCore, packetID: UInt16, generation: UInt64) {
        self.core = core
        self.packetID = packetID
        self.generation = generation
    }

    func acknowledge() {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        core?.acknowledgeInbound(packetID, generation: generation)
    }
}
