import ZeroMQ

/// The remote control protocol behind ``BusConfiguration/controlBind``: one text frame in, one
/// text frame out. `STATISTICS` answers with the proxy's counters as JSON; `PAUSE` and `RESUME`
/// steer the proxy and answer `OK`. Anything else answers `ERROR ...`.
struct RemoteControl: Sendable {
    let proxy: BusProxy

    func answer(_ request: [[UInt8]]) -> [[UInt8]] {
        let command = request.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        do throws(BusError) {
            switch command {
            case "STATISTICS":
                return [Array(try proxy.statistics().json.utf8)]
            case "PAUSE":
                try proxy.pause()
                return [Array("OK".utf8)]
            case "RESUME":
                try proxy.resume()
                return [Array("OK".utf8)]
            default:
                return [Array("ERROR unknown command (STATISTICS, PAUSE, RESUME)".utf8)]
            }
        } catch {
            return [Array("ERROR \(error.message)".utf8)]
        }
    }
}

extension BusStatistics {
    /// The counters as a JSON object.
    public var json: String {
        func side(_ traffic: Traffic) -> String { #"{"messages":\#(traffic.messages),"bytes":\#(traffic.bytes)}"# }
        return #"{"frontendReceived":\#(side(frontendReceived)),"frontendSent":\#(side(frontendSent)),"#
            + #""backendReceived":\#(side(backendReceived)),"backendSent":\#(side(backendSent))}"#
    }

    /// Parses ``json``.
    public init?(json: String) {
        let numbers = json.split(whereSeparator: { !$0.isNumber }).compactMap { UInt64($0) }
        guard numbers.count == 8 else { return nil }
        self.init(counters: numbers)
    }
}

extension VirtualBus {
    /// Sends one remote control command (`STATISTICS`, `PAUSE`, `RESUME`) to a bus's
    /// ``BusConfiguration/controlBind`` endpoint and returns its text answer.
    public static func remoteControl(_ command: String, at endpoint: BusEndpoint, timeout: Duration = .seconds(2))
        throws(BusError) -> String
    {
        let context = try mappingZMQErrors { () throws(ZMQError) in try ZMQContext() }
        defer { try? context.terminate() }
        let reply = try mappingZMQErrors { () throws(ZMQError) -> [[UInt8]]? in
            var socket = try ZMQSocket(context, type: .req)
            defer { socket.close(lingerMilliseconds: 0) }
            let milliseconds = Int32(clamping: timeout.milliseconds)
            try socket.setSendTimeout(milliseconds: milliseconds)
            try socket.setReceiveTimeout(milliseconds: milliseconds)
            try socket.connect(endpoint.url)
            guard try socket.send(frames: [Array(command.utf8)]) else { return nil }
            return try socket.receiveFrames()
        }
        guard let text = reply?.first.map({ String(decoding: $0, as: UTF8.self) }) else {
            throw BusError(.controlTimedOut, "no answer from \(endpoint) within \(timeout)", endpoint: endpoint.url)
        }
        return text
    }

    /// The counters of the bus whose control endpoint is `endpoint`.
    public static func remoteStatistics(at endpoint: BusEndpoint, timeout: Duration = .seconds(2)) throws(BusError)
        -> BusStatistics
    {
        let answer = try remoteControl("STATISTICS", at: endpoint, timeout: timeout)
        guard let statistics = BusStatistics(json: answer) else {
            throw BusError(
                .transport, "unexpected answer from \(endpoint): \(answer.prefix(200))", endpoint: endpoint.url)
        }
        return statistics
    }
}
