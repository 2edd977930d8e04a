import Foundation

/// Line-oriented output that reaches a pipe at once (tests and scripts read it as it comes).
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func status(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
