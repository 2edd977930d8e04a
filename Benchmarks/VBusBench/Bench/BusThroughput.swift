import Foundation
import VirtualBus

/// Our side of the bus benchmark: publisher thread -> proxy -> K subscriptions consumed with
/// `for await`, measured like the C anchor (from the first message received to the end marker).
enum BusThroughput {
    struct Result {
        let received: Int
        let seconds: Double
        var rate: Double { Double(received) / seconds }
    }

    /// With `transport == "tcp"`, the publisher and subscribers belong to a second bus connected to
    /// the first over loopback tcp (its own context, as another process would have), like the C
    /// anchor's tcp mode.
    static func run(messages: Int, size: Int, subscribers: Int, transport: String = "inproc", curve: Bool = false)
        async throws -> Result
    {
        let server: VirtualBus
        let bus: VirtualBus
        if transport == "tcp" {
            var configuration = BusConfiguration(frontendBinds: [.tcp(port: nil)], backendBinds: [.tcp(port: nil)])
            var clientConfiguration = BusConfiguration()
            if curve {
                let serverKeys = try CurveKeyPair.generate(), clientKeys = try CurveKeyPair.generate()
                configuration.curveServer = CurveServerSecurity(
                    keys: serverKeys, allowedClientKeys: [clientKeys.publicKey])
                clientConfiguration.curveClient = CurveClientSecurity(
                    serverPublicKey: serverKeys.publicKey, keys: clientKeys)
            }
            server = try VirtualBus(configuration: configuration)
            bus = try VirtualBus.connect(
                frontend: try BusEndpoint(parsing: server.endpoints.frontend[1]),
                backend: try BusEndpoint(parsing: server.endpoints.backend[1]),
                configuration: clientConfiguration
            )
        } else {
            server = try VirtualBus()
            bus = server
        }
        var subscriptions: [BusSubscription] = []
        for _ in 0..<subscribers { subscriptions.append(try await bus.subscribe(to: [""])) }
        let consumers = subscriptions.map { subscription in
            Task { () -> (Int, ContinuousClock.Instant?, ContinuousClock.Instant) in
                var count = 0
                var first: ContinuousClock.Instant?
                for await message in subscription {
                    if message.topic == "end" { break }
                    if count == 0 { first = .now }
                    count += 1
                }
                return (count, first, .now)
            }
        }
        let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(60)))
        let payload = [UInt8](repeating: 0x61, count: size)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<messages { try? publisher.publish(topic: "bench/topic", payload: payload) }
            try? publisher.publish(topic: "end", payload: [])
            done.signal()
        }
        thread.start()
        var received = 0
        var seconds = 0.0
        for consumer in consumers {
            let (count, first, last) = await consumer.value
            received += count
            if let first { seconds = max(seconds, (last - first).seconds) }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                done.wait(); continuation.resume()
            }
        }
        await bus.shutdown()
        await server.shutdown()
        return Result(received: received / max(subscribers, 1), seconds: seconds)
    }
}
