extension MQTTError.Code {
    /// The broker does not speak the MQTT version asked for: it answered CONNECT with "unsupported
    /// protocol version" (a 3.1.1 broker's return code 1, an MQTT 5 broker's reason 0x84), or it
    /// closed the connection before CONNACK in answer to the first MQTT 5.0 CONNECT, as
    /// RabbitMQ 3.x does. Final: reconnecting with the same version cannot succeed.
    public static let unsupportedProtocolVersion = MQTTError.Code("unsupportedProtocolVersion")
}

extension MQTTError {
    /// The broker refused `version` in CONNACK.
    static func versionRefused(_ version: MQTTProtocolVersion, reasonCode: MQTTReasonCode) -> MQTTError {
        MQTTError(
            .unsupportedProtocolVersion,
            """
            the broker refused MQTT \(version) (CONNACK: unsupported protocol \
            version)\(Self.olderVersionAdvice(version))
            """,
            reasonCode: reasonCode)
    }

    /// The broker closed the connection in answer to the first CONNECT at `version`, with no CONNACK.
    ///
    /// Only said of MQTT 5.0 on a client that never connected: brokers of 3.1.1 alone (RabbitMQ
    /// 3.x) end such a connection without a word, and a broker that once accepted this version
    /// and now closes while starting up is a lost connection like any other.
    static func versionNotAnswered(_ version: MQTTProtocolVersion) -> MQTTError {
        MQTTError(
            .unsupportedProtocolVersion,
            """
            the broker closed the connection in answer to an MQTT \(version) CONNECT, before CONNACK: it does not \
            speak MQTT \(version)\(Self.olderVersionAdvice(version))
            """
        )
    }

    private static func olderVersionAdvice(_ version: MQTTProtocolVersion) -> String {
        version == .v5 ? "; use MQTT 3.1.1" : ""
    }
}
