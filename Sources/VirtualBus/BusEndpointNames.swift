/// The `inproc://` names of one bus instance. Each bus gets a unique stem, so several buses (in
/// tests, or in one app) never collide in a context.
struct BusEndpointNames: Sendable {
    let stem: String

    init(busID: UInt64) {
        stem = "inproc://vbus-\(String(busID, radix: 16))"
    }

    var frontend: String { "\(stem)-frontend" }
    var backend: String { "\(stem)-backend" }
    var proxyControl: String { "\(stem)-proxy-control" }

    func runLoopControl(_ subscriptionID: UInt64) -> String { "\(stem)-run-loop-\(subscriptionID)" }
}
