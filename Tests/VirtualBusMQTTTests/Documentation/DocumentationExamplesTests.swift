import Foundation
import Testing

/// Every `swift` code block in the DocC catalogue and docs/MQTT.md is compiled code: it must be
/// one of the regions of `DocumentationExamples.swift`, line for line (indentation aside).
@Suite("Documentation examples")
struct DocumentationExamplesTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let documents: [URL] = {
        let catalogue = packageRoot.appendingPathComponent("Sources/VirtualBusMQTT/VirtualBusMQTT.docc")
        let articles = (try? FileManager.default.contentsOfDirectory(at: catalogue, includingPropertiesForKeys: nil)) ?? []
        return articles.filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
            + [packageRoot.appendingPathComponent("docs/MQTT.md")]
    }()

    /// Lines with the block's common indentation removed and trailing spaces dropped.
    static func normalized(_ lines: [Substring]) -> [String] {
        let indent = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
        return lines.map { String($0.dropFirst(min(indent, $0.prefix(while: { $0 == " " }).count))) }
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
    }

    /// `swift` fenced blocks of a markdown file.
    static func codeBlocks(in text: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(normalized(current!))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// `// BEGIN name` ... `// END` regions of the compiled examples, by document name.
    static func regions() throws -> [String: [[String]]] {
        let source = try String(contentsOf: testsDirectory.appendingPathComponent("DocumentationExamples.swift"), encoding: .utf8)
        var result: [String: [[String]]] = [:]
        var current: (name: String, lines: [Substring])?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("// BEGIN ") {
                current = (String(trimmed.dropFirst("// BEGIN ".count)), [])
            } else if trimmed == "// END", let c = current {
                result[c.name, default: []].append(normalized(c.lines))
                current = nil
            } else {
                current?.lines.append(line)
            }
        }
        return result
    }

    @Test("each code block in the docs is compiled in DocumentationExamples.swift, and each example is shown")
    func examplesMatch() throws {
        let compiled = try Self.regions()
        #expect(!Self.documents.isEmpty)
        var shown = 0
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            let blocks = Self.codeBlocks(in: text)
            let examples = compiled[document.lastPathComponent] ?? []
            for block in blocks {
                #expect(examples.contains(block), "\(document.lastPathComponent): a code block is not compiled:\n\(block.joined(separator: "\n"))")
            }
            for example in examples {
                #expect(blocks.contains(example), "\(document.lastPathComponent) no longer shows:\n\(example.joined(separator: "\n"))")
            }
            shown += blocks.count
        }
        #expect(shown == compiled.values.map(\.count).reduce(0, +), "an example names a document that does not exist")
    }
}
