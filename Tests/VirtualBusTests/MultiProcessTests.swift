import Testing
import TestSupport
@testable import VirtualBus

@Suite("Buses joined over ipc and tcp, with and without CURVE", .timeLimit(.minutes(1)))
struct MultiProcessTests {
    /// A served bus with ephemeral tcp endpoints (a separate context stands in for another process).
    private func servedBus(_ configure: (inout BusConfiguration) -> Void = { _ in }) throws -> VirtualBus {
        var configuration = BusConfiguration()
        configuration.frontendBinds = [.tcp(port: nil)]
        configuration.backendBinds = [.tcp(port: nil)]
        configure(&configuration)
        return try VirtualBus(configuration: configuration)
    }

    @Test("a connected bus publishes and subscribes through a remote one over tcp, both ways")
    func connectOverTCP() async throws {
        let server = try servedBus()
        let local = try await server.subscribe(to: ["remote/"])
        let client = try VirtualBus.connect(
            frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]),
            backend: try BusEndpoint(parsing: server.endpoints.backend[1])
        )
        let remote = try await client.subscribe(to: ["local/"])
        try client.makePublisher().publish(topic: "remote/1", payload: "from client")
        try server.makePublisher().publish(topic: "local/1", payload: "from server")
        #expect(try await local.first(1).map(\.payloadString) == ["from client"])
        #expect(try await remote.first(1).map(\.payloadString) == ["from server"])
        #expect(await client.shutdown().isComplete)
        #expect(await server.shutdown().isComplete)
    }

    @Test("a connected bus over ipc delivers 10,000 messages in order")
    func connectOverIPC() async throws {
        let path = "/tmp/vbus-test-\(UInt32.random(in: 0...UInt32.max))"
        let server = try VirtualBus(
            configuration: {
                var configuration = BusConfiguration()
                configuration.frontendBinds = [.ipc(path + "-front")]
                configuration.backendBinds = [.ipc(path + "-back")]
                return configuration
            }())
        let client = try VirtualBus.connect(frontend: .ipc(path + "-front"), backend: .ipc(path + "-back"))
        let subscription = try await client.subscribe(to: ["n"])
        let publisher = try client.makePublisher()
        for index in 0..<10_000 { try publisher.publish(topic: "n", payload: "\(index)") }
        #expect(try await subscription.first(10_000).map(\.payloadString) == (0..<10_000).map(String.init))
        await client.shutdown()
        await server.shutdown()
    }

    @Test("a connected bus has no proxy controls of its own")
    func connectedHasNoProxy() async throws {
        let server = try servedBus()
        let client = try VirtualBus.connect(frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]))
        #expect { try client.statistics() } throws: { ($0 as? BusError)?.code == .invalidConfiguration }
        await #expect { try await client.subscribe(to: ["x"]) } throws: {
            ($0 as? BusError)?.code == .invalidConfiguration
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test("CURVE: an allowed client key gets through, an unknown key gets nothing and is counted")
    func curveAllowList() async throws {
        try #require(CurveKeyPair.isCurveAvailable, "libzmq must be built with CURVE")
        let serverKeys = try CurveKeyPair.generate()
        let allowed = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        let server = try servedBus {
            $0.curveServer = CurveServerSecurity(keys: serverKeys, allowedClientKeys: [allowed.publicKey])
        }
        let local = try await server.subscribe(to: [""])
        // The refused client's operations wait out its subscribe timeout, so it is short; the allowed
        // one keeps the default, which a CURVE handshake on a loaded machine cannot run into.
        func client(_ keys: CurveKeyPair, subscribeTimeout: Duration = BusConfiguration().subscribeTimeout) throws
            -> VirtualBus
        {
            var configuration = BusConfiguration()
            configuration.curveClient = CurveClientSecurity(serverPublicKey: serverKeys.publicKey, keys: keys)
            configuration.subscribeTimeout = subscribeTimeout
            return try VirtualBus.connect(
                frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]),
                backend: try BusEndpoint(parsing: server.endpoints.backend[1]),
                configuration: configuration
            )
        }
        let good = try client(allowed)
        try good.makePublisher().publish(topic: "ok", payload: "allowed")
        #expect(try await local.first(1).map(\.payloadString) == ["allowed"])

        let bad = try client(stranger, subscribeTimeout: .milliseconds(500))
        #expect { try bad.makePublisher() } throws: { ($0 as? BusError)?.code == .subscribeTimedOut }
        await #expect { try await bad.subscribe(to: [""]) } throws: { ($0 as? BusError)?.code == .subscribeTimedOut }
        #expect(server.securityStatistics.refused >= 1)
        #expect(server.securityStatistics.accepted >= 1)
        #expect(local.statistics.delivered == 1)
        await bad.shutdown()
        await good.shutdown()
        #expect(await server.shutdown().isComplete)
    }

    @Test("remote control: STATISTICS, PAUSE and RESUME over an ipc control endpoint")
    func remoteControl() async throws {
        let control = BusEndpoint.ipc("/tmp/vbus-control-\(UInt32.random(in: 0...UInt32.max))")
        var configuration = BusConfiguration()
        configuration.controlBind = control
        let bus = try VirtualBus(configuration: configuration)
        let subscription = try await bus.subscribe(to: ["c"])
        try bus.makePublisher().publish(topic: "c", payload: "1")
        _ = try await subscription.first(1)
        let statistics = try VirtualBus.remoteStatistics(at: control)
        #expect(statistics.backendSent.messages >= 1)
        #expect(try VirtualBus.remoteControl("PAUSE", at: control) == "OK")
        #expect(try VirtualBus.remoteControl("RESUME", at: control) == "OK")
        #expect(try VirtualBus.remoteControl("NONSENSE", at: control).hasPrefix("ERROR"))
        #expect(await bus.shutdown().isComplete)
        #expect { try VirtualBus.remoteStatistics(at: control, timeout: .milliseconds(100)) } throws: {
            ($0 as? BusError)?.code == .controlTimedOut
        }
    }

    @Test("a CURVE key pair never prints its secret")
    func secretNotPrinted() throws {
        let keys = try CurveKeyPair.generate()
        #expect(!"\(keys)".contains(keys.secretKey))
        #expect(try CurveKeyPair(secretKey: keys.secretKey).publicKey == keys.publicKey)
    }

    @Test("a tcp peer sending over the size limit is disconnected and counted; others are still served")
    func oversizedPeerDisconnected() async throws {
        let server = try servedBus { $0.maximumMessageSize = 1024 }
        let subscription = try await server.subscribe(to: [""])
        let hostile = try ForeignPublisher(endpoint: server.endpoints.frontend[1])
        try await waitUntil("hostile peer accepted") { server.peerStatistics.connectionsAccepted >= 1 }
        // Over the topic + payload limit libzmq enforces on the tcp side (ZMQ_MAXMSGSIZE).
        try hostile.send([Array("big".utf8), [UInt8](repeating: 1, count: 200_000)])
        try await waitUntil("hostile peer disconnected") { server.peerStatistics.disconnections >= 1 }
        let friendly = try VirtualBus.connect(frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]))
        try friendly.makePublisher().publish(topic: "ok", payload: "fine")
        #expect(try await subscription.first(1).map(\.topic) == ["ok"])
        #expect(subscription.statistics.delivered == 1, "the oversized message never reached a subscriber")
        hostile.close()
        await friendly.shutdown()
        #expect(await server.shutdown().isComplete)
    }

    @Test("hundreds of idle tcp connections do not stop the bus from serving")
    func connectionFlood() async throws {
        let server = try servedBus()
        // One client context, 200 sockets: 200 tcp connections without 200 contexts' worth of
        // threads and descriptors (which starved other tests that spawn processes).
        let client = try VirtualBus.connect(frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]))
        var connections: [BusPublisher] = []
        for _ in 0..<200 { connections.append(try client.makePublisher()) }
        let subscription = try await server.subscribe(to: ["still"])
        try server.makePublisher().publish(topic: "still", payload: "serving")
        #expect(try await subscription.first(1).count == 1)
        try await waitUntil("200 connections counted") { server.peerStatistics.openConnections >= 200 }
        connections.removeAll()
        await client.shutdown()
        #expect(await server.shutdown().isComplete)
    }
}
