import Foundation
import Testing
import TestSupport

/// Every `swift` code block in the DocC catalogue and docs/MQTT.md is compiled code: it must be
/// one of the regions of `DocumentationExamples.swift`, line for line (indentation aside).
@Suite("Documentation examples")
struct DocumentationExamplesTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let documents: [URL] = {
        let catalogue = packageRoot.appendingPathComponent("Sources/VirtualBusMQTT/VirtualBusMQTT.docc")
        let articles =
            (try? FileManager.default.contentsOfDirectory(at: catalogue, includingPropertiesForKeys: nil)) ?? []
        return articles.filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
            + [packageRoot.appendingPathComponent("docs/MQTT.md")]
    }()

    @Test("each code block in the docs is compiled in DocumentationExamples.swift, and each example is shown")
    func examplesMatch() throws {
        let documents = try Self.documents.map { ($0.lastPathComponent, try String(contentsOf: $0, encoding: .utf8)) }
        let source = try String(
            contentsOf: Self.testsDirectory.appendingPathComponent("DocumentationExamples.swift"), encoding: .utf8)
        let problems = DocumentedExamples.mismatches(documents: documents, compiledSource: source)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n\n"))")
    }
}
