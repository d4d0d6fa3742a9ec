import Foundation

/// The one line a progress display redraws in place on stderr, and the `chartsync:` lines printed
/// above it. Not thread-safe: its owner serializes the calls.
struct StatusLine {
    /// Whether the status line is on screen now (a printed line must clear it first).
    private(set) var shown = false

    /// Draws `text` in place of the status line.
    mutating func show(_ text: String) {
        FileHandle.standardError.write(Data(("\r" + text + "\u{1B}[K").utf8))
        shown = true
    }

    /// Clears the status line.
    mutating func clear() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
    }

    /// `text` as a `chartsync:` line above the status line, which is drawn again (`current`) when it was shown.
    mutating func print(_ text: String, current: () -> String) {
        let wasShown = shown
        clear()
        FileHandle.standardError.write(Data(("chartsync: " + text + "\n").utf8))
        if wasShown { show(current()) }
    }
}
