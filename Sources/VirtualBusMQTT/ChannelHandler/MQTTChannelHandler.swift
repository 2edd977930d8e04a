import ConcurrencyPrimitives
internal import NIOCore

/// The thin NIO handler: decodes bytes, hands packets to the client core, and forwards
/// lifecycle events. All protocol logic lives in ``MQTTConnectionStateMachine``.
final class MQTTChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: ClientCore
    private let decoder: MQTTPacketDecoder
    private let end: MQTTWaiter<ClientCore.ConnectionEnd>
    private let tickInterval: TimeAmount
    private var cumulation: ByteBuffer?
    /// Decoded packets not yet handed to the core (see `channelReadComplete`).
    private var packets: [MQTTPacket] = []
    private var timer: RepeatedTask?
    private var failed = false

    init(core: ClientCore, end: MQTTWaiter<ClientCore.ConnectionEnd>) {
        self.core = core
        self.end = end
        let config = core.configuration
        self.decoder = MQTTPacketDecoder(version: config.version, maximumPacketSize: Int(config.maximumPacketSize))
        // Tick often enough for both the keep-alive and the connect timeout; at most every second.
        let keepAliveNanos = config.keepAlive.components.seconds * 1_000_000_000
        let quarter = keepAliveNanos > 0 ? keepAliveNanos / 4 : 1_000_000_000
        self.tickInterval = .nanoseconds(max(50_000_000, min(1_000_000_000, quarter)))
    }

    func channelActive(context: ChannelHandlerContext) {
        core.channelActive(context.channel, end: end)
        let core = self.core
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            core.tick()
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var bytes = unwrapInboundIn(data)
        if cumulation == nil || cumulation!.readableBytes == 0 {
            cumulation = bytes
        } else {
            cumulation!.writeBuffer(&bytes)
        }
        do {
            while let packet = try decoder.decode(buffer: &cumulation!) { packets.append(packet) }
        } catch {
            failed = true
            deliverPackets()
            core.fail(error)
            return
        }
        if cumulation!.readableBytes == 0 {
            cumulation = nil
        } else if cumulation!.readerIndex > 65_536 {
            cumulation!.discardReadBytes()
        }
    }

    /// Packets of all reads in this event-loop turn go to the core together: one lock
    /// acquisition and at most one consumer wake-up per subscription for the whole turn, instead
    /// of one per read (small messages arrive a few per read).
    func channelReadComplete(context: ChannelHandlerContext) {
        deliverPackets()
        context.fireChannelReadComplete()
    }

    private func deliverPackets() {
        guard !packets.isEmpty else { return }
        let batch = packets
        packets.removeAll(keepingCapacity: true)
        core.received(batch)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverPackets()
        timer?.cancel()
        timer = nil
        core.channelInactive()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIOSSL reports handshake and verification failures with its own error types.
        let isTLS = String(reflecting: type(of: error)).contains("SSL")
        core.fail(MQTTError(isTLS ? .tls : .connectionFailed, "\(isTLS ? "TLS" : "transport") error: \(error)"))
        context.close(promise: nil)
    }
}
