import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP proxy whose connections the test can cut, to simulate a network failure
/// between client and broker while the broker keeps its sessions.
final class TCPProxy: Sendable {
    let server: any Channel
    private let connections = Mutex<[any Channel]>([])

    var port: Int { server.localAddress!.port! }

    static func start(to targetPort: Int) async throws -> TCPProxy {
        let box = Mutex<TCPProxy?>(nil)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { inbound in
                let proxy = box.withLock { $0 }
                proxy?.track(inbound)
                let toBroker = Glue()
                do {
                    try inbound.pipeline.syncOperations.addHandler(toBroker)
                } catch {
                    return inbound.eventLoop.makeFailedFuture(error)
                }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            let back = Glue()
                            back.attach(inbound)
                            try outbound.pipeline.syncOperations.addHandler(back)
                        }
                    }
                    .connect(host: "127.0.0.1", port: targetPort)
                    .map { outbound in
                        proxy?.track(outbound)
                        toBroker.attach(outbound)
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = TCPProxy(server: server)
        box.withLock { $0 = proxy }
        return proxy
    }

    private init(server: any Channel) { self.server = server }

    private func track(_ channel: any Channel) { connections.withLock { $0.append(channel) } }

    /// Closes every proxied connection (both sides); new connections are accepted again.
    func cut() {
        let all = connections.withLock { c in
            defer { c = [] }
            return c
        }
        for c in all { c.close(promise: nil) }
    }

    func stop() async {
        cut()
        try? await server.close()
    }

    /// Forwards reads to the peer; holds them until the peer is attached.
    private final class Glue: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: both channels of one proxied connection share one event loop, and every
        // member is touched only from it.
        typealias InboundIn = ByteBuffer
        private var peer: (any Channel)?
        private var held: [ByteBuffer] = []
        private var closed = false

        func attach(_ peer: any Channel) {
            self.peer = peer
            for b in held { peer.write(b, promise: nil) }
            held = []
            peer.flush()
            if closed { peer.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            if let peer { peer.writeAndFlush(bytes, promise: nil) } else { held.append(bytes) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
            peer?.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
