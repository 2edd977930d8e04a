import NIOCore
import NIOPosix
import Synchronization

@testable import VirtualBusMQTT

/// A test-only MQTT 5 broker that answers each decoded client packet from a script, for what no
/// real broker here can do without plugins (enhanced authentication). It records what it got.
final class ScriptedBroker: Sendable {
    typealias Script = @Sendable (MQTTPacket) -> [MQTTPacket]

    let channel: any Channel
    let received = Mutex<[MQTTPacket]>([])

    var port: Int { channel.localAddress!.port! }

    static func start(_ script: @escaping Script) async throws -> ScriptedBroker {
        let box = Mutex<ScriptedBroker?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(script: script, record: { packet in
                        box.withLock { $0?.received.withLock { $0.append(packet) } }
                    }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let broker = ScriptedBroker(channel: channel)
        box.withLock { $0 = broker }
        return broker
    }

    private init(channel: any Channel) { self.channel = channel }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: `buffer` is touched only on the child channel's event loop.
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
