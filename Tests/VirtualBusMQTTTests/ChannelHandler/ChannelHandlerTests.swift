import ConcurrencyPrimitives
import NIOCore
import NIOEmbedded
import Testing
@testable import VirtualBusMQTT

/// The thin handler on an `EmbeddedChannel`, against a test-only broker-side codec.
@Suite("Channel handler (EmbeddedChannel)")
struct ChannelHandlerTests {
    final class Harness {
        let core: ClientCore
        let channel: EmbeddedChannel
        let end = MQTTWaiter<ClientCore.ConnectionEnd>()
        var brokerEncoder: MQTTPacketEncoder
        let brokerDecoder: MQTTPacketDecoder

        init(version: MQTTProtocolVersion) throws {
            let config = MQTTClientConfiguration(host: "embedded", version: version, clientID: "embedded")
            core = ClientCore(configuration: config)
            channel = EmbeddedChannel()
            brokerEncoder = MQTTPacketEncoder(version: version)
            brokerDecoder = MQTTPacketDecoder(version: version)
            try channel.pipeline.syncOperations.addHandler(MQTTChannelHandler(core: core, end: end))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1883)).wait()
        }

        /// Everything the client wrote, decoded broker-side.
        func sent() throws -> [MQTTPacket] {
            channel.embeddedEventLoop.run()
            var packets: [MQTTPacket] = []
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                while let p = try brokerDecoder.decode(buffer: &buffer) { packets.append(p) }
            }
            return packets
        }

        /// Sends broker packets, optionally one byte per read to exercise reassembly.
        func send(_ packets: [MQTTPacket], byteByByte: Bool = false) throws {
            var bytes = ByteBuffer()
            for p in packets { try brokerEncoder.encode(p, into: &bytes) }
            if byteByByte {
                for b in bytes.readableBytesView { try channel.writeInbound(ByteBuffer(bytes: [b])) }
            } else {
                try channel.writeInbound(bytes)
            }
            channel.embeddedEventLoop.run()
        }
    }

    @Test(
        "CONNECT out, CONNACK in (split into single bytes), QoS 1 and 2 flows matched",
        arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func flows(version: MQTTProtocolVersion) throws {
        let h = try Harness(version: version)
        guard case .connect(let connect) = try h.sent().first else { Issue.record("no CONNECT"); return }
        #expect(connect.clientID == "embedded" && connect.version == version)
        try h.send([.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success))], byteByByte: true)
        #expect(h.core.state.withLock { $0.machine.state.isConnected })

        let q1 = h.core.enqueue(PublishPacket(topic: "a", payload: ByteBuffer(bytes: [1]), qos: .atLeastOnce))
        let q2 = h.core.enqueue(PublishPacket(topic: "b", payload: ByteBuffer(bytes: [2]), qos: .exactlyOnce))
        let out = try h.sent()
        let ids = out.compactMap { if case .publish(let p) = $0 { p.packetID } else { nil } }
        #expect(ids.count == 2 && Set(ids).count == 2)
        try h.send([.pubrec(AckPacket(packetID: ids[1])), .puback(AckPacket(packetID: ids[0]))])
        #expect(try q1.result?.get().qos == .atLeastOnce)
        #expect(q2.result == nil)
        #expect(try h.sent() == [.pubrel(AckPacket(packetID: ids[1]))])
        try h.send([.pubcomp(AckPacket(packetID: ids[1]))])
        #expect(try q2.result?.get().qos == .exactlyOnce)
    }

    @Test("inbound QoS 2 is acknowledged PUBREC -> PUBCOMP and delivered once")
    func inboundQoS2() throws {
        let h = try Harness(version: .v5)
        _ = try h.sent()
        try h.send([.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success))])
        let buffer = MQTTSubscriptionBuffer(capacity: 10, dropOldest: true, onDrop: {})
        h.core.state.withLock {
            _ = $0.subscriptions.add(
                ClientCore.LocalSubscription(filters: ["x/#"], buffer: buffer), options: .init(qos: .atLeastOnce))
        }
        let publish = PublishPacket(topic: "x/y", payload: ByteBuffer(bytes: [7]), qos: .exactlyOnce, packetID: 3)
        var dup = publish
        dup.dup = true
        try h.send([.publish(publish), .publish(dup)])
        #expect(try h.sent() == [.pubrec(AckPacket(packetID: 3)), .pubrec(AckPacket(packetID: 3))])
        #expect(buffer.depth == 1)
        try h.send([.pubrel(AckPacket(packetID: 3))])
        #expect(try h.sent() == [.pubcomp(AckPacket(packetID: 3))])
    }

    @Test("garbage closes the channel with a protocol violation and a DISCONNECT reason [MQTT-4.13.1-1]")
    func garbage() throws {
        let h = try Harness(version: .v5)
        _ = try h.sent()
        try h.send([.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success))])
        let ticket = h.core.enqueue(PublishPacket(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce))
        _ = try h.sent()
        try h.channel.writeInbound(ByteBuffer(bytes: [0x00, 0x00]))
        h.channel.embeddedEventLoop.run()
        let sent = try h.sent()
        #expect(sent.contains(.disconnect(ReasonPacket(reasonCode: .malformedPacket))))
        #expect(!h.channel.isActive)
        #expect(h.end.result.map { (try? $0.get())?.error?.code } == .protocolViolation)
        #expect(throws: MQTTError.self) { try ticket.result?.get() }
    }
}
