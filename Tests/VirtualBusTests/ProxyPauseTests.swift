import Foundation
import Testing
import TestSupport
@testable import VirtualBus

/// `pause()` holds every message until `resume()`, in-process and through `vbus control PAUSE`.
///
/// Each test breaks if pause does nothing: the proxy's own counters must not move while paused
/// (libzmq counts a message when it forwards it), and the subscriber must have nothing.
@Suite("Proxy pause holds messages until resume", .timeLimit(.minutes(2)))
struct ProxyPauseTests {
    private static let count = 1000

    @Test(
        "published while paused: held (none delivered, none forwarded), then all in order after resume; counters exact")
    func pauseHoldsUntilResume() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["held/"])
        let publisher = try bus.makePublisher()
        let before = try bus.statistics()
        try bus.pause()
        let messages = (0..<Self.count).map { BusMessage(topic: "held/\($0 % 7)", payload: Array("\($0)".utf8)) }
        for message in messages { try publisher.publish(message) }
        // The publisher is inproc: each message is in the proxy's queue when publish returns. An
        // active proxy forwards a burst per turn of its loop; each statistics answer is one turn.
        for _ in 0..<3 {
            let during = try bus.statistics()
            #expect(during.frontendReceived == before.frontendReceived, "the proxy forwarded while paused")
            #expect(during.backendSent == before.backendSent, "the proxy forwarded while paused")
        }
        #expect(subscription.statistics.delivered + subscription.statistics.buffered == 0)

        try bus.resume()
        #expect(try await subscription.first(Self.count) == messages)
        let after = try bus.statistics()
        let bytes = UInt64(messages.reduce(0) { $0 + $1.topic.utf8.count + $1.payload.count })
        #expect(after.frontendReceived.messages - before.frontendReceived.messages == UInt64(Self.count))
        #expect(after.frontendReceived.bytes - before.frontendReceived.bytes == bytes)
        #expect(after.backendSent.messages - before.backendSent.messages == UInt64(Self.count))
        #expect(after.backendSent.bytes - before.backendSent.bytes == bytes)
        #expect(subscription.statistics.delivered == Self.count)
        #expect(subscription.statistics.dropped == 0)
        #expect(await bus.shutdown().isComplete)
    }

    @Test("pause and resume are repeatable: each paused window holds its own batch, order kept across windows")
    func repeatedWindows() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["w/"])
        let publisher = try bus.makePublisher()
        var expected: [String] = []
        for window in 0..<5 {
            try bus.pause()
            let held = try bus.statistics().backendSent
            for index in 0..<100 {
                try publisher.publish(topic: "w/\(window)", payload: "\(window).\(index)")
                expected.append("\(window).\(index)")
            }
            #expect(try bus.statistics().backendSent == held, "window \(window): forwarded while paused")
            try bus.resume()
        }
        #expect(try await subscription.first(expected.count).map(\.payloadString) == expected)
        await bus.shutdown()
    }

    @Test(
        """
        vbus control PAUSE on a vbus proxy process: a pyzmq subscriber gets nothing until RESUME, then every \
        message in order
        """
    )
    func cliPause() async throws {
        let control = "ipc:///tmp/vbus-pause-\(UInt32.random(in: 0...UInt32.max))"
        let proxy = try ChildProcess.vbus([
            "proxy", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*", "--control", control,
        ])
        let ready = try await proxy.nextLine { $0.hasPrefix("vbus proxy: ready") }
        func field(_ name: String) -> String {
            String(ready.split(separator: " ").first { $0.hasPrefix("\(name)=") }!.dropFirst(name.count + 1))
        }
        let subscriber = try ChildProcess.pyzmqCountingSubscriber(field("backend"))
        _ = try await subscriber.nextLine { $0 == "ready" }
        let client = try VirtualBus.connect(frontend: try BusEndpoint(parsing: field("frontend")))
        let publisher = try client.makePublisher()
        try await subscriber.waitUntilSynced(probing: publisher)

        #expect(try await vbusControl("PAUSE", control) == "OK")
        let before = try VirtualBus.remoteStatistics(at: try BusEndpoint(parsing: control))
        for index in 0..<Self.count { try publisher.publish(topic: "data", payload: "\(index)") }
        try publisher.publish(topic: "end", payload: "")
        // Over tcp a message may still be in flight when publish returns, so this is a window of
        // observation, not a synchronisation: an active proxy forwards all 1,001 in well under it.
        let window = ContinuousClock.now + .milliseconds(300)
        while ContinuousClock.now < window {
            let during = try VirtualBus.remoteStatistics(at: try BusEndpoint(parsing: control))
            #expect(during.backendSent == before.backendSent, "vbus proxy forwarded while paused")
            if during.backendSent != before.backendSent { break }
        }
        #expect(try await vbusControl("RESUME", control) == "OK")
        let result = try await subscriber.nextLine(within: .seconds(30)) { $0.hasPrefix("received") }
        #expect(result == "received \(Self.count) in-order")
        let after = try VirtualBus.remoteStatistics(at: try BusEndpoint(parsing: control))
        #expect(after.backendSent.messages - before.backendSent.messages == UInt64(Self.count + 1))
        #expect(
            try await vbusControl("BOGUS", control, status: 1)?.contains(
                "Error: the proxy refused: ERROR unknown command") == true)
        await client.shutdown()
        proxy.terminate()
        #expect(try await proxy.exit().status == 0)
    }

    /// Runs `vbus control COMMAND --control ENDPOINT`, expecting `status`; its first line of output.
    private func vbusControl(_ command: String, _ control: String, status: Int32 = 0) async throws -> String? {
        let process = try ChildProcess.vbus(["control", command, "--control", control])
        let exit = try await process.exit()
        #expect(exit.status == status, "vbus control \(command)")
        return try await process.transcript().split(separator: "\n").first.map(String.init)
    }
}
