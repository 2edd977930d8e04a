import NIOCore
import NIOPosix
import Synchronization

@testable import VirtualBusMQTT

/// A tiny test-only broker that answers CONNECT with a scripted byte sequence, for the
/// hostile-broker tests. It records every byte the client sends.
final class FakeBroker: Sendable {
    let channel: any Channel
    let received = Mutex<[UInt8]>([])

    var port: Int { channel.localAddress!.port! }

    /// `reply` is written once the first bytes (the CONNECT) arrive; nil = never answer.
    static func start(reply: [UInt8]?) async throws -> FakeBroker {
        let box = Mutex<FakeBroker?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(reply: reply, record: { bytes in
                        box.withLock { $0?.received.withLock { $0 += bytes } }
                    }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let broker = FakeBroker(channel: channel)
        box.withLock { $0 = broker }
        return broker
    }

    private init(channel: any Channel) { self.channel = channel }

    func stop() async { try? await channel.close() }

    /// Decodes what the client sent, as broker-side packets.
    func receivedPackets(_ version: MQTTProtocolVersion) -> [MQTTPacket] {
        var buffer = ByteBuffer(bytes: received.withLock { $0 })
        let decoder = MQTTPacketDecoder(version: version)
        var out: [MQTTPacket] = []
        while let p = try? decoder.decode(buffer: &buffer) { out.append(p) }
        return out
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let reply: [UInt8]?
        let record: @Sendable ([UInt8]) -> Void
        let answered = Atomic<Bool>(false)

        init(reply: [UInt8]?, record: @escaping @Sendable ([UInt8]) -> Void) {
            self.reply = reply
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            record(bytes)
            if let reply, !answered.exchange(true, ordering: .relaxed) {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil)
            }
        }

        typealias OutboundOut = ByteBuffer
    }
}
