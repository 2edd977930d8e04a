import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Request/response bookkeeping as a value type: correlation data names one request, a response
/// completes only its own request, and a late or unknown one completes none.
@Suite("Request table: responses matched by correlation data, with no I/O")
struct RequestTableTests {
    static func response(to correlation: [UInt8], on topic: MQTTTopic = "r/client/1") -> MQTTMessage {
        MQTTMessage(topic: topic, payload: [], properties: [.correlationData(correlation)])
    }

    @Test("each request gets its own correlation data, and its response finds it once")
    func matching() throws {
        var table = RequestTable()
        table.responseTopic = "r/client/1"
        let first = MQTTWaiter<MQTTMessage>(), second = MQTTWaiter<MQTTMessage>()
        let a = table.add(first), b = table.add(second)
        #expect(a.correlation != b.correlation && a.correlation.count == 8)
        #expect(RequestTable.id(of: a.correlation) == a.id)
        let id = try #require(table.requestID(answeredBy: Self.response(to: b.correlation)))
        let removed = table.remove(id)
        let answered = try #require(removed)
        #expect(answered === second)
        let again = table.requestID(answeredBy: Self.response(to: b.correlation)).flatMap { table.remove($0) }
        #expect(
            table.requestID(answeredBy: Self.response(to: b.correlation)) != nil && again == nil,
            "a second response finds no request")
        #expect(table.count == 1)
    }

    @Test("messages on other topics, or without 8 bytes of correlation data, are not responses")
    func notResponses() {
        var table = RequestTable()
        table.responseTopic = "r/client/1"
        let request = table.add(MQTTWaiter<MQTTMessage>())
        let elsewhere = table.requestID(answeredBy: Self.response(to: request.correlation, on: "elsewhere"))
        let short = table.requestID(answeredBy: Self.response(to: [1, 2, 3]))
        #expect(elsewhere == nil && short == nil)
        #expect(table.count == 1)
    }

    @Test("a removed (timed out) request is not completed by a late response; shutdown takes the rest")
    func removal() throws {
        var table = RequestTable()
        table.responseTopic = "r/client/1"
        let late = table.add(MQTTWaiter<MQTTMessage>())
        _ = table.add(MQTTWaiter<MQTTMessage>())
        #expect(table.remove(late.id) != nil)
        let lateID = table.requestID(answeredBy: Self.response(to: late.correlation))
        let lateWaiter = lateID.flatMap { table.remove($0) }
        #expect(lateID != nil && lateWaiter == nil, "a response on the topic, for no request")
        #expect(table.removeAll().count == 1 && table.count == 0)
    }
}
