extension MQTTConnectionStateMachine {
    /// An AUTH from the broker (MQTT 5.0 sections 3.15 and 4.12).
    ///
    /// Allowed only when the client asked for enhanced authentication, always with the same method
    /// [MQTT-4.12.0-5]: "continue" while connecting or re-authenticating hands the challenge to the
    /// application; "success" ends a re-authentication. Anything else is a protocol error.
    mutating func authReceived(_ auth: ReasonPacket) -> [Action] {
        guard let method = configuration.authenticationMethod else {
            return violation("AUTH although CONNECT had no authentication method (MQTT 5.0 section 4.12)")
        }
        guard auth.properties.authenticationMethod == method else {
            return violation("AUTH with another authentication method than CONNECT's [MQTT-4.12.0-5]")
        }
        switch auth.reasonCode {
        case .continueAuthentication where state.isConnecting || (state.isConnected && reauthentication != nil):
            return [
                .authenticate(
                    MQTTAuthenticationChallenge(
                        method: method, data: auth.properties.authenticationData, isReauthentication: state.isConnected,
                        properties: auth.properties))
            ]
        case .success where state.isConnected && reauthentication != nil:
            let completion = reauthentication!
            reauthentication = nil
            return [.reauthenticated(completion, .success(auth.reasonCode))]
        default:
            return violation(
                """
                AUTH with reason \(auth.reasonCode) while \
                \(reauthentication == nil ? state.name : "re-authenticating") (MQTT 5.0 section 4.12)
                """
            )
        }
    }

    /// The application's answer to a challenge: sends AUTH "continue authentication" with `data`,
    /// if the exchange it belongs to is still going on.
    mutating func answerAuthentication(_ data: [UInt8]?, isReauthentication: Bool) -> [Action] {
        let stillGoing = isReauthentication ? (state.isConnected && reauthentication != nil) : state.isConnecting
        guard stillGoing, let method = configuration.authenticationMethod else { return [] }
        return [.send(.auth(authPacket(.continueAuthentication, method: method, data: data)))]
    }

    /// Starts a re-authentication (AUTH "re-authenticate" with the initial data); the completion
    /// receives the broker's final AUTH reason code. One at a time.
    mutating func reauthenticate(completion: Completion) -> [Action] {
        guard let method = configuration.authenticationMethod else {
            return [
                .reauthenticated(completion, .failure(MQTTError(.unsupported, "no authentication method configured")))
            ]
        }
        guard state.isConnected else { return [.reauthenticated(completion, .failure(notConnectedError))] }
        guard reauthentication == nil else {
            return [
                .reauthenticated(
                    completion, .failure(MQTTError(.unsupported, "a re-authentication is already in progress")))
            ]
        }
        reauthentication = completion
        return [.send(.auth(authPacket(.reAuthenticate, method: method, data: configuration.authenticationData)))]
    }

    func authPacket(_ code: MQTTReasonCode, method: String, data: [UInt8]?) -> ReasonPacket {
        var properties: MQTTProperties = [.authenticationMethod(method)]
        if let data { properties.append(.authenticationData(data)) }
        return ReasonPacket(reasonCode: code, properties: properties)
    }
}

extension MQTTConnectionStateMachine.State {
    var name: String { "\(self)" }
}
