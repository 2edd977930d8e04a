import NIOCore
import NIOPosix
import Synchronization

@testable import VirtualBusMQTT
import ConcurrencyPrimitives

/// A test-only MQTT 5 broker that answers each decoded client packet from a script, for what no
/// real broker here can do without plugins (enhanced authentication). It records what it got.
final class ScriptedBroker: Sendable {
    typealias Script = @Sendable (MQTTPacket) -> [MQTTPacket]

    let channel: any Channel
    private let log: Locked<[MQTTPacket]>

    /// Every packet the client sent, in order.
    var received: [MQTTPacket] { log.withLock { $0 } }


    var port: Int { channel.localAddress!.port! }

    static func start(_ script: @escaping Script) async throws -> ScriptedBroker {
        let log = Locked<[MQTTPacket]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                let handler = Handler(script: script) { packet in log.withLock { $0.append(packet) } }
                return child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedBroker(channel: channel, log: log)
    }

    private init(channel: any Channel, log: Locked<[MQTTPacket]>) {
        self.channel = channel
        self.log = log
    }

    func stop() async { try? await channel.close() }

    // @unchecked: `buffer` is touched only on the child channel's event loop; the other stored
    // properties are immutable and Sendable.
    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: Script
        let record: @Sendable (MQTTPacket) -> Void
        private var buffer = ByteBuffer()

        init(script: @escaping Script, record: @escaping @Sendable (MQTTPacket) -> Void) {
            self.script = script
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            let decoder = MQTTPacketDecoder(version: .v5)
            var encoder = MQTTPacketEncoder(version: .v5)
            while let packet = try? decoder.decode(buffer: &buffer) {
                record(packet)
                var out = ByteBuffer()
                for reply in script(packet) { try? encoder.encode(reply, into: &out) }
                if out.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
            }
        }
    }
}
