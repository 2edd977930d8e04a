import Foundation
import Testing
import TestSupport
@testable import VirtualBus

/// `vbus proxy` as a separate process, with pyzmq peers and our own buses on the other ends.
@Suite("vbus CLI and interop with pyzmq over tcp and ipc", .timeLimit(.minutes(2)))
struct CLIInteropTests {
    private static let pyzmqPublisher = """
        import sys, zmq
        ctx = zmq.Context(); s = ctx.socket(zmq.XPUB)
        s.setsockopt(zmq.XPUB_NODROP, 1); s.setsockopt(zmq.SNDHWM, 1000); s.setsockopt(zmq.RCVTIMEO, 10000)
        s.connect(sys.argv[1])
        while s.recv() != b'\\x01': pass
        n = int(sys.argv[2])
        for i in range(n): s.send_multipart([b'py/data', str(i).encode()])
        s.send_multipart([b'py/end', b''])
        s.close(linger=10000); ctx.term(); print('sent', n, flush=True)
        """

    /// Fresh frontend and backend endpoints of a transport (ephemeral tcp ports, unique ipc paths).
    private func endpoints(_ transport: String) -> (String, String) {
        guard transport == "ipc" else { return ("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") }
        let path = "/tmp/vbus-interop-\(UInt32.random(in: 0...UInt32.max))"
        return ("ipc://\(path)-f", "ipc://\(path)-b")
    }

    /// Starts `vbus proxy` and returns it with its resolved frontend and backend.
    private func startProxy(_ frontend: String, _ backend: String, extra: [String] = []) async throws -> (
        ChildProcess, String, String
    ) {
        let proxy = try ChildProcess.vbus(["proxy", "--frontend", frontend, "--backend", backend] + extra)
        let ready = try await proxy.nextLine { $0.hasPrefix("vbus proxy: ready") }
        func field(_ name: String) -> String {
            String(ready.split(separator: " ").first { $0.hasPrefix("\(name)=") }!.dropFirst(name.count + 1))
        }
        return (proxy, field("frontend"), field("backend"))
    }

    @Test(
        "pyzmq PUB -> vbus proxy -> our subscriber: 100,000 messages, none lost, in order", arguments: ["tcp", "ipc"])
    func pyzmqToOurs(transport: String) async throws {
        let (front, back) = endpoints(transport)
        let (proxy, frontend, backend) = try await startProxy(front, back)
        let client = try VirtualBus.connect(
            frontend: try BusEndpoint(parsing: frontend), backend: try BusEndpoint(parsing: backend))
        let subscription = try await client.subscribe(to: ["py/"])
        let python = try ChildProcess.python(Self.pyzmqPublisher, [frontend, "100000"])
        let (received, inOrder) = try await withDeadline(.seconds(60), "100,000 messages from pyzmq") {
            var received = 0, inOrder = true
            for await message in subscription {
                if message.topic == "py/end" { break }
                inOrder = inOrder && message.payloadString == String(received)
                received += 1
            }
            return (received, inOrder)
        }
        #expect(received == 100_000)
        #expect(inOrder)
        #expect(try await python.exit().status == 0, "python3 with pyzmq must be installed (bash scripts/setup.sh)")
        await client.shutdown()
        proxy.terminate()
        #expect(try await proxy.exit().status == 0)
    }

    @Test("our publisher -> vbus proxy -> pyzmq SUB: 100,000 messages, none lost, in order", arguments: ["tcp", "ipc"])
    func oursToPyzmq(transport: String) async throws {
        let (front, back) = endpoints(transport)
        let (proxy, frontend, backend) = try await startProxy(front, back)
        let python = try ChildProcess.pyzmqCountingSubscriber(backend)
        _ = try await python.nextLine { $0 == "ready" }
        let client = try VirtualBus.connect(frontend: try BusEndpoint(parsing: frontend))
        let publisher = try client.makePublisher()
        try await python.waitUntilSynced(probing: publisher)
        for index in 0..<100_000 { try publisher.publish(topic: "data", payload: "\(index)") }
        try publisher.publish(topic: "end", payload: "")
        let result = try await python.nextLine(within: .seconds(60)) { $0.hasPrefix("received") }
        #expect(result == "received 100000 in-order")
        await client.shutdown()
        proxy.terminate()
        #expect(try await proxy.exit().status == 0)
    }

    @Test("vbus proxy exits 0 within a second of SIGTERM with peers attached")
    func proxyTerminates() async throws {
        let (proxy, frontend, backend) = try await startProxy("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
        let client = try VirtualBus.connect(
            frontend: try BusEndpoint(parsing: frontend), backend: try BusEndpoint(parsing: backend))
        _ = try await client.subscribe(to: [""])
        let publisher = try client.makePublisher()
        try publisher.publish(topic: "x", payload: "y")
        let start = ContinuousClock.now
        proxy.terminate()
        let exit = try await proxy.exit(within: .seconds(5))
        #expect(exit.status == 0)
        #expect(exit.at - start < .seconds(1))
        #expect(await client.shutdown().isComplete)
    }

    @Test("vbus pub and vbus sub through vbus proxy, text and json, with stats over the control endpoint")
    func pubSubStats() async throws {
        let control = "ipc:///tmp/vbus-cli-control-\(UInt32.random(in: 0...UInt32.max))"
        let (proxy, frontend, backend) = try await startProxy(
            "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", extra: ["--control", control])
        let text = try ChildProcess.vbus(["sub", "--backend", backend, "--frontend", frontend, "--count", "2", "cli/"])
        let json = try ChildProcess.vbus([
            "sub", "--backend", backend, "--frontend", frontend, "--count", "2", "--format", "json", "cli/",
        ])
        _ = try await text.nextLine(.standardError) { $0 == "vbus sub: ready" }
        _ = try await json.nextLine(.standardError) { $0 == "vbus sub: ready" }
        let pub = try ChildProcess.vbus(["pub", "--frontend", frontend, "cli/t"], standardInput: "hello\nsay \"hi\"\n")
        #expect(try await pub.exit().status == 0)
        #expect(try await text.nextLine { $0.hasPrefix("cli/t say") } == #"cli/t say "hi""#)
        #expect(try await json.nextLine { $0.contains("say") } == #"{"topic":"cli/t","payload":"say \"hi\""}"#)
        #expect(try await text.exit().status == 0)
        let stats = try ChildProcess.vbus(["stats", "--control", control])
        let line = try await stats.nextLine { $0.hasPrefix("{") }
        #expect(BusStatistics(json: line)!.frontendReceived.messages >= 2)
        proxy.terminate()
        #expect(try await proxy.exit().status == 0)
    }

    @Test("CURVE through the CLI: keygen, an allowed client passes, an unknown key is refused with a clear error")
    func curveCLI() async throws {
        let directory = "/tmp/vbus-keys-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["server", "client", "stranger"] {
            let keygen = try ChildProcess.vbus(["keygen", "--out", "\(directory)/\(name)"])
            #expect(try await keygen.exit().status == 0)
        }
        let secret = try String(contentsOfFile: "\(directory)/server.key", encoding: .utf8)
        let (proxy, frontend, _) = try await startProxy(
            "tcp://127.0.0.1:*", "tcp://127.0.0.1:*",
            extra: ["--curve-server-secret", "\(directory)/server.key", "--curve-allow", "\(directory)/client.pub"]
        )
        let allowed = try ChildProcess.vbus([
            "pub", "--frontend", frontend, "--curve-server-public", "\(directory)/server.pub", "--curve-secret",
            "\(directory)/client.key", "t", "m",
        ])
        #expect(try await allowed.exit().status == 0)
        let refused = try ChildProcess.vbus([
            "pub", "--frontend", frontend, "--curve-server-public", "\(directory)/server.pub", "--curve-secret",
            "\(directory)/stranger.key", "t", "m",
        ])
        let error = try await refused.nextLine(.standardError) { $0.contains("Error") }
        #expect(error.contains("did not accept"))
        #expect(!error.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await refused.exit().status != 0)
        proxy.terminate()
        #expect(try await proxy.exit().status == 0)
    }

    @Test(
        "CLI errors are one clear line and a non-zero status",
        arguments: [
            ["pub", "--frontend", "bogus://x", "t", "m"],
            ["proxy", "--frontend", "tcp://127.0.0.1:notaport"],
            ["sub"],
        ])
    func cliErrors(arguments: [String]) async throws {
        let command = try ChildProcess.vbus(arguments)
        let line = try await command.nextLine(.standardError) { $0.hasPrefix("Error") }
        #expect(!line.isEmpty)
        #expect(try await command.exit().status != 0)
    }
}
