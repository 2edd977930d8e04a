/// Keeps the `swift` code blocks of markdown documents compiled.
///
/// The code of every block lives in a Swift file of a test target, between `// BEGIN name` and
/// `// END`, where `name` is the document's file name. ``mismatches(documents:compiledSource:)``
/// names every block that is not, line for line, one of its document's regions, and every region
/// its document no longer shows. Indentation and trailing spaces do not count, and neither do a
/// block's `import` lines (the compiled file has its own, at the top).
public enum DocumentedExamples {
    /// A markdown document: its file name and its text.
    public typealias Document = (name: String, text: String)

    /// What does not match, one message each; empty when every block is compiled and shown.
    public static func mismatches(documents: [Document], compiledSource: String) -> [String] {
        let compiled = regions(in: compiledSource)
        var problems: [String] = []
        var shown = 0
        for document in documents {
            let blocks = codeBlocks(in: document.text)
            let examples = compiled[document.name] ?? []
            for block in blocks where !examples.contains(block) {
                problems.append("\(document.name): a code block is not compiled:\n\(block.joined(separator: "\n"))")
            }
            for example in examples where !blocks.contains(example) {
                problems.append("\(document.name) no longer shows:\n\(example.joined(separator: "\n"))")
            }
            shown += blocks.count
        }
        let names = Set(documents.map(\.name))
        for name in compiled.keys where !names.contains(name) {
            problems.append("examples name a document that is not checked: \(name)")
        }
        if documents.isEmpty || shown == 0 { problems.append("no code blocks found: the documents did not load") }
        return problems
    }

    /// The `swift` fenced blocks of a markdown text, normalized, without `import` lines.
    static func codeBlocks(in text: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingWhitespace
            if current == nil, trimmed == "```swift" {
                current = []
            } else if current != nil, trimmed == "```" {
                blocks.append(normalized(current!.filter { !$0.trimmingWhitespace.hasPrefix("import ") }))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// The `// BEGIN name` ... `// END` regions of a Swift source, normalized, by name.
    static func regions(in source: String) -> [String: [[String]]] {
        var result: [String: [[String]]] = [:]
        var current: (name: String, lines: [Substring])?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingWhitespace
            if trimmed.hasPrefix("// BEGIN ") {
                current = (String(trimmed.dropFirst("// BEGIN ".count)), [])
            } else if trimmed == "// END", let region = current {
                result[region.name, default: []].append(normalized(region.lines))
                current = nil
            } else {
                current?.lines.append(line)
            }
        }
        return result
    }

    /// Lines with the block's common indentation removed, trailing spaces dropped, and blank
    /// lines at either end removed.
    static func normalized(_ lines: [Substring]) -> [String] {
        let indents = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map { $0.prefix(while: { $0 == " " }).count }
        let indent = indents.min() ?? 0
        var result = lines.map { line in
            String(line.dropFirst(min(indent, line.prefix(while: { $0 == " " }).count)).trailingSpacesDropped)
        }
        while result.first?.isEmpty == true { result.removeFirst() }
        while result.last?.isEmpty == true { result.removeLast() }
        return result
    }
}

private extension Substring {
    var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<end]
    }

    var trailingSpacesDropped: Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return self[startIndex..<end]
    }
}
