import ConcurrencyPrimitives
import TestSupport
import VirtualBus
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scenarios about the bus's lifetime and its peers outside the process's bus objects.
extension ShutdownScenario {
    /// Foreign ZeroMQ peers (their own context, as another process would have) stay connected over
    /// ipc and tcp while the bus shuts down.
    public static let externalPeers = ShutdownScenario(
        name: "external-peers",
        summary: "foreign PUB and SUB peers connected over ipc and tcp stay connected through shutdown",
        configure: { configuration, random in
            let path = "/tmp/vbus-suite-\(getpid())-\(random.next() % 1_000_000_000)"
            configuration.frontendBinds = [.tcp(port: nil), .ipc(path + "-f.ipc")]
            configuration.backendBinds = [.tcp(port: nil), .ipc(path + "-b.ipc")]
            // Sometimes a remote-control endpoint too: its helper thread must end with the bus.
            if random.chance(0.5) { configuration.controlBind = .tcp(port: nil) }
        }
    ) { h in
        h.consume(try await h.subscribe(to: ["x/"], counted: false))
        // Counted subscriptions must not match the foreign publisher's `x/ext`.
        for _ in 0..<h.random(in: 1...2) {
            h.consume(try await h.subscribe(to: h.pick([["t/"], ["u/"], ["t/a"], ["t/b", "u/c"]])))
        }
        let endpoints = h.bus.endpoints
        // libzmq leaves the socket files of closed ipc binds behind: remove them at the end.
        defer {
            for url in endpoints.frontend + endpoints.backend where url.hasPrefix("ipc://") {
                unlink(String(url.dropFirst(6)))
            }
        }
        let release = OneShotEvent()
        let peers = ForeignPeers(
            publishTo: h.pick(Array(endpoints.frontend.dropFirst())),
            subscribeTo: h.pick(Array(endpoints.backend.dropFirst())),
            messages: h.random(in: 0...200), random: h.makeRandom(), release: release
        ).start()
        let publisher = try h.makePublisher(policy: .failFast)
        h.burst(publisher, limit: h.random(in: 0...1_000))
        await h.jitter()
        await h.shutdown()
        release.fire()
        if await peers.value(before: .now + .seconds(5)) == nil {
            h.fail("the foreign peers' thread did not end")
        }
    }

    /// The bus is released without calling shutdown: `deinit` must shut it down synchronously,
    /// within its fixed deadline, and leave no thread or context behind.
    public static let releasedWithoutShutdown = ShutdownScenario(
        name: "released-without-shutdown",
        summary: "the last reference to the bus is dropped without shutdown(); deinit shuts it down"
    ) { h in
        for _ in 0..<h.random(in: 0...3) {
            let subscription = try await h.subscribe(to: h.randomPrefixes(), bufferPolicy: h.randomBufferPolicy())
            if h.random(in: 0...3) > 0 { h.consume(subscription) }
        }
        if h.random(in: 0...1) == 0 {
            let burst = h.burst(
                try h.makePublisher(policy: h.pick([.failFast, .drop])), limit: h.random(in: 0...2_000))
            if h.random(in: 0...1) == 0 {
                _ = await burst.value(before: .now + .seconds(10))
                await h.barrier()
            }
        }
        await h.jitter()
        if !(await h.releaseBus()) { h.fail("releasing the bus did not return within 10 s") }
    }
}

/// A foreign publisher and subscriber in their own ZeroMQ context, on a thread of their own (their
/// sockets are created, used and closed there). They publish a few messages on `x/ext`, then stay
/// connected until `release` fires.
private struct ForeignPeers: Sendable {
    let publishTo: String
    let subscribeTo: String
    let messages: Int
    var random: SplitMix64
    let release: OneShotEvent

    func start() -> ThreadWork<Void> {
        ThreadWork(name: "suite-foreign") {
            var random = self.random
            guard let context = try? ZMQContext(ioThreads: 1) else { return }
            do throws(ZMQError) {
                var publisher = try ZMQSocket(context, type: .pub)
                var subscriber = try ZMQSocket(context, type: .sub)
                try publisher.setLinger(milliseconds: 0)
                try subscriber.setLinger(milliseconds: 0)
                try publisher.connect(publishTo)
                try subscriber.subscribe([])
                try subscriber.connect(subscribeTo)
                for _ in 0..<messages {
                    _ = try publisher.send(frames: [Array("x/ext".utf8), [1, 2, 3]], dontWait: true)
                    Jitter.thread(&random)
                }
                _ = release.waitBlocking(timeout: .seconds(10))
                publisher.close(lingerMilliseconds: 0)
                subscriber.close(lingerMilliseconds: 0)
            } catch {
                // A failed connect leaves nothing open that the context cannot reclaim.
            }
            try? context.terminate()
        }
    }
}
