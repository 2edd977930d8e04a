import Foundation

/// One group of bars: our figure next to the reference's.
struct ChartRow {
    let label: String
    let ours: Double
    let reference: Double
}

/// A dependency-free grouped bar chart written as SVG, so benchmark reports carry a picture.
struct SVGChart {
    let title: String
    let rows: [ChartRow]
    let referenceName: String
    var unit = "msgs/s"

    func render() -> String {
        let width = 160 * rows.count + 120, height = 320, plotBottom = 260, plotHeight = 200
        let maximum = max(rows.flatMap { [$0.ours, $0.reference] }.max() ?? 1, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="14">\(title)</text>
            <rect x="10" y="32" width="12" height="12" fill="#2a6fdb"/><text x="28" y="42">ours</text>
            <rect x="80" y="32" width="12" height="12" fill="#aaaaaa"/><text x="98" y="42">\(referenceName)</text>

            """
        for (index, row) in rows.enumerated() {
            let x = 60 + index * 160
            for (offset, value, color) in [(0, row.ours, "#2a6fdb"), (60, row.reference, "#aaaaaa")] {
                let barHeight = Int(Double(plotHeight) * value / maximum)
                svg +=
                    """
                    <rect x=\"\(x + offset)\" y=\"\(plotBottom - barHeight)\" width=\"50\" \
                    height=\"\(barHeight)\" fill=\"\(color)\"/>\n
                    """
                svg +=
                    """
                    <text x=\"\(x + offset)\" y=\"\(plotBottom - barHeight - 4)\" \
                    font-size=\"10\">\(value.rateDescription)</text>\n
                    """
            }
            svg += "<text x=\"\(x)\" y=\"\(plotBottom + 18)\">\(row.label)</text>\n"
            svg +=
                """
                <text x=\"\(x)\" y=\"\(plotBottom + 34)\" font-size=\"10\">ratio \
                \((row.ours / row.reference).formatted(decimals: 2))</text>\n
                """
        }
        svg +=
            """
            <line x1=\"50\" y1=\"\(plotBottom)\" x2=\"\(width - 10)\" y2=\"\(plotBottom)\" \
            stroke=\"black\"/>\n</svg>\n
            """
        return svg
    }

    func write(to path: String) throws {
        try render().write(toFile: path, atomically: true, encoding: .utf8)
    }
}
