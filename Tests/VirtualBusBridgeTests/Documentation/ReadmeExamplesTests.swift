import Foundation
import Testing
import TestSupport

/// Every `swift` code block in README.md is compiled code: one of the regions of
/// `ReadmeExamples.swift`, line for line (indentation and `import` lines aside).
@Suite("README examples")
struct ReadmeExamplesTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let readme = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("README.md")

    @Test("each code block in README.md is compiled in ReadmeExamples.swift, and each example is shown")
    func examplesMatch() throws {
        let readme = try String(contentsOf: Self.readme, encoding: .utf8)
        let source = try String(
            contentsOf: Self.testsDirectory.appendingPathComponent("ReadmeExamples.swift"), encoding: .utf8)
        let problems = DocumentedExamples.mismatches(documents: [("README.md", readme)], compiledSource: source)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n\n"))")
    }
}
