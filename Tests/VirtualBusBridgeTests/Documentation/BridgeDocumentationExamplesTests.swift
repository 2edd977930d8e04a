import Foundation
import Testing
import TestSupport

/// Every `swift` code block in the VirtualBusBridge DocC catalogue is compiled code (a region of
/// `BridgeDocumentationExamples.swift`), and what the examples say in their comments is true.
@Suite("VirtualBusBridge documentation examples")
struct BridgeDocumentationExamplesTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let catalogue = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Sources/VirtualBusBridge/VirtualBusBridge.docc")

    @Test(
        "each code block in VirtualBusBridge.docc is compiled in BridgeDocumentationExamples.swift, and each example is shown"
    )
    func examplesMatch() throws {
        let articles = try FileManager.default.contentsOfDirectory(at: Self.catalogue, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
        let documents = try articles.map { ($0.lastPathComponent, try String(contentsOf: $0, encoding: .utf8)) }
        let source = try String(
            contentsOf: Self.testsDirectory.appendingPathComponent("BridgeDocumentationExamples.swift"), encoding: .utf8
        )
        let problems = DocumentedExamples.mismatches(documents: documents, compiledSource: source)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n\n"))")
    }

    @Test("the topic-mapping example's comments are the values it computes")
    func topicMappingValues() throws {
        let mapping = try BridgeDocumentationExamples.topicMapping()
        #expect(mapping.prefix == "plant/sensors/")
        #expect(mapping.filter == "site1/sensors/+/temp")
        #expect(mapping.out == "site1/sensors/a/temp")
        #expect(mapping.skipped == nil)
    }

    @Test("the rules of the examples are valid and carry what their comments say")
    func exampleRules() throws {
        let rules = try BridgeDocumentationExamples.rules()
        #expect(rules[1].busTopic(forMQTTTopic: "cmd/fan/on") == "cmd/fan/on")
        #expect(rules[1].busTopic(forMQTTTopic: "cmd/fan/test") == nil, "deny wins")
        #expect(rules[1].busTopic(forMQTTTopic: "cmd/door/open") == nil, "not allowed")
        let retained = try BridgeDocumentationExamples.retained()
        #expect(retained.map(\.retain) == [.never, .always])
    }
}
