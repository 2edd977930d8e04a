import Foundation
import Testing

/// `vbus bridge` as a separate process with foreign peers on both ends: pyzmq on the bus side,
/// mosquitto_pub / mosquitto_sub on the MQTT side, and the private mosquitto the bridge starts
/// itself when no broker is given.
@Suite("vbus bridge with pyzmq and mosquitto clients", .timeLimit(.minutes(2)))
struct CLIBridgeTests {
    /// Publishes `[topic, payload]` every 20 ms until stopped: the bridge subscribes to the bus only
    /// once it is connected to its broker, and a PUB socket cannot know when that is.
    private static let pyzmqRepeater = """
    import sys, time, zmq
    ctx = zmq.Context(); s = ctx.socket(zmq.PUB); s.connect(sys.argv[1])
    for _ in range(1000):
        s.send_multipart([sys.argv[2].encode(), sys.argv[3].encode()]); time.sleep(0.02)
    """

    private static let pyzmqSubscriber = """
    import sys, zmq
    ctx = zmq.Context(); s = ctx.socket(zmq.SUB); s.setsockopt(zmq.SUBSCRIBE, sys.argv[2].encode())
    s.setsockopt(zmq.RCVTIMEO, 30000); s.connect(sys.argv[1])
    t, p = s.recv_multipart()
    topic, _, origin = t.partition(b'\\0')
    print(topic.decode(), p.decode(), 'origin=' + origin.decode(), flush=True)
    """

    @Test("out to mosquitto_sub, in from mosquitto_pub (retained) to a pyzmq SUB, private broker, SIGTERM exits 0")
    func bridgeBetweenForeignPeers() async throws {
        let bridge = try ChildProcess.vbus([
            "bridge", "--out", "sensors/#=site/", "--in", "cmd/#", "--qos", "1",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        let started = try await bridge.firstLine(\.errorLines) { $0.contains("started a private mosquitto at mqtt://") }
        let port = try #require(started.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let banner = try await bridge.firstLine { $0.hasPrefix("vbus bridge:") && $0.contains("frontend=") }
        func endpoint(_ name: String) -> String {
            String(banner.split(separator: " ").first { $0.hasPrefix("\(name)=") }!.dropFirst(name.count + 1))
        }
        let frontend = endpoint("frontend"), backend = endpoint("backend")

        // Bus -> MQTT: a pyzmq PUB on the bridge's frontend, mosquitto_sub on the private broker.
        let mqttSubscriber = try ChildProcess("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "site/#", "-C", "1", "-v", "-q", "1"])
        let busPublisher = try ChildProcess.python(Self.pyzmqRepeater, [frontend, "sensors/t", "21.5"])
        #expect(try await mqttSubscriber.firstLine { $0.hasPrefix("site/") } == "site/sensors/t 21.5")
        busPublisher.terminate()

        // MQTT -> bus: a retained command reaches a pyzmq SUB on the bridge's backend, whenever
        // the bridge's subscription comes (the broker keeps it; the bridge's cache replays it).
        let busSubscriber = try ChildProcess.python(Self.pyzmqSubscriber, [backend, "cmd/"])
        let mqttPublisher = try ChildProcess("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "cmd/fan", "-m", "on", "-r", "-q", "1"])
        #expect(try await mqttPublisher.exitStatus() == 0)
        // Two frames as for any peer; the bridge's origin tag follows the topic after a NUL.
        let delivered = try await busSubscriber.firstLine { _ in true }
        #expect(delivered.hasPrefix("cmd/fan on origin=bridge-"), "got: \(delivered)")

        bridge.terminate()
        #expect(try await bridge.exitStatus(within: .seconds(10)) == 0)
    }
}
