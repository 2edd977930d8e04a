extension MQTTClientConfiguration {
    /// Every broker the client may use, in the order it tries them: ``host``:``port`` first, then
    /// ``alternateEndpoints``.
    public var endpoints: [MQTTBrokerEndpoint] {
        [MQTTBrokerEndpoint(host: host, port: port)] + alternateEndpoints
    }
}

extension MQTTClient {
    /// The broker of the current connection, or of the attempt being made.
    ///
    /// With ``MQTTClientConfiguration/alternateEndpoints``, a failed attempt or a lost connection
    /// moves the client to the next endpoint (after the last, back to the first); it stays where
    /// it connected until that connection is lost, so a node that comes back does not pull
    /// connections back and forth.
    public var currentEndpoint: MQTTBrokerEndpoint {
        let endpoints = configuration.endpoints
        return endpoints[endpointIndex.load(ordering: .relaxed) % endpoints.count]
    }

    /// After a failure: the next endpoint, when there is more than one.
    func moveToNextEndpoint() {
        let count = configuration.endpoints.count
        guard count > 1 else { return }
        let next = (endpointIndex.load(ordering: .relaxed) + 1) % count
        endpointIndex.store(next, ordering: .relaxed)
        logger.info("MQTT: trying the next broker", metadata: ["broker": "\(configuration.endpoints[next])"])
    }
}
