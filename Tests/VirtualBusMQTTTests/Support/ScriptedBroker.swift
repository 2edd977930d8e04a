import ConcurrencyPrimitives
import NIOCore
import NIOPosix
import Synchronization
@testable import VirtualBusMQTT

/// The one test-only broker, for what no real broker can do: answer from a script (enhanced
/// authentication, refusals), or send bytes no broker would (the hostile-broker tests). It records
/// every byte the client sends.
final class ScriptedBroker: Sendable {
    /// Answers one decoded client packet (MQTT 5.0) with packets.
    typealias Script = @Sendable (MQTTPacket) -> [MQTTPacket]

    /// How the broker answers.
    private enum Answer: Sendable {
        /// Each decoded packet, from a script.
        case packets(Script)
        /// The first bytes from the client (its CONNECT), once, with these bytes; `nil`: never.
        case bytes([UInt8]?)
    }

    let channel: any Channel
    private let bytesReceived: Locked<[UInt8]>

    var port: Int { channel.localAddress!.port! }

    /// Every packet the client sent, in order, decoded as MQTT 5.0.
    var received: [MQTTPacket] { receivedPackets(.v5) }

    /// A broker answering each client packet from `script`.
    static func start(_ script: @escaping Script) async throws -> ScriptedBroker {
        try await start(answering: .packets(script))
    }

    /// A broker answering the client's first bytes (its CONNECT) with `reply`, once; `nil`: never.
    static func start(reply: [UInt8]?) async throws -> ScriptedBroker {
        try await start(answering: .bytes(reply))
    }

    private static func start(answering answer: Answer) async throws -> ScriptedBroker {
        let bytes = Locked<[UInt8]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                let handler = Handler(answer: answer) { received in bytes.withLock { $0 += received } }
                return child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedBroker(channel: channel, bytesReceived: bytes)
    }

    private init(channel: any Channel, bytesReceived: Locked<[UInt8]>) {
        self.channel = channel
        self.bytesReceived = bytesReceived
    }

    func stop() async { try? await channel.close() }

    /// Decodes what the client sent, as broker-side packets of `version`.
    func receivedPackets(_ version: MQTTProtocolVersion) -> [MQTTPacket] {
        var buffer = ByteBuffer(bytes: bytesReceived.withLock { $0 })
        let decoder = MQTTPacketDecoder(version: version)
        var packets: [MQTTPacket] = []
        while let packet = try? decoder.decode(buffer: &buffer) { packets.append(packet) }
        return packets
    }

    // @unchecked: `buffer` and `answered` are touched only on the child channel's event loop; the
    // other stored properties are immutable and Sendable.
    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: Answer
        let record: @Sendable ([UInt8]) -> Void
        private var buffer = ByteBuffer()
        private var answered = false

        init(answer: Answer, record: @escaping @Sendable ([UInt8]) -> Void) {
            self.answer = answer
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            record(Array(bytes.readableBytesView))
            switch answer {
            case .bytes(let reply):
                guard let reply, !answered else { return }
                answered = true
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil)
            case .packets(let script):
                buffer.writeBuffer(&bytes)
                let decoder = MQTTPacketDecoder(version: .v5)
                var encoder = MQTTPacketEncoder(version: .v5)
                while let packet = try? decoder.decode(buffer: &buffer) {
                    var out = ByteBuffer()
                    for reply in script(packet) { try? encoder.encode(reply, into: &out) }
                    if out.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
                }
            }
        }
    }
}
