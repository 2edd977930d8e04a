import VirtualBusMQTT

/// What one feature did against one broker at one MQTT version: a cell of the matrix.
enum InteropOutcome: Sendable, Equatable {
    /// It works as the specification says.
    case works
    /// It works with less than was asked, as the broker said it would (a SUBACK granting a
    /// lower QoS): documented, and what an application gets.
    case downgraded(String)
    /// The broker refused it and our client reported the refusal as this typed error.
    case refused(MQTTError.Code, String)
    /// The broker accepted everything but did not do it (no error on either side): a gap of the
    /// broker's, documented, that an application must not count on with it.
    case unsupported(String)
    /// Not tried: an earlier step (the connection itself) was refused.
    case notApplicable
    /// A hang (no answer before the deadline), an untyped error or wrong data: a bug here or a
    /// promise we cannot keep, and the test fails.
    case failed(String)

    /// The text of the cell in docs/MQTT.md.
    var cell: String {
        switch self {
        case .works: "works"
        case .downgraded(let how): "downgraded: \(how)"
        case .refused(let code, let what): "refused: `\(code)` (\(what))"
        case .unsupported(let what): "not supported: \(what)"
        case .notApplicable: "—"
        case .failed(let why): "**FAILED**: \(why)"
        }
    }

    var isFailure: Bool { if case .failed = self { true } else { false } }
}

/// The rows of the matrix, in the order the table shows them.
enum InteropFeature: String, CaseIterable, Sendable {
    case connect = "connect"
    case wildcards = "subscribe with `+` and `#`"
    case qos0 = "publish / deliver QoS 0"
    case qos1 = "publish / deliver QoS 1"
    case qos2 = "publish / deliver QoS 2"
    case retained = "retained message"
    case will = "will message"
    case keepAlive = "keep-alive (PINGREQ every 1 s)"
    case sessionResume = "persistent session resumed"
    case reconnect = "connection lost, reconnect"
}
