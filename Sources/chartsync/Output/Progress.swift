import ChartSync
import Foundation

/// Progress on stderr: a live bar when stderr is a terminal, plain lines otherwise, nothing
/// with --quiet (warnings still show).
final class Progress: @unchecked Sendable {
    /// Charts the run handles.
    private let total: Int
    /// --quiet: no progress (warnings still show).
    private let quiet: Bool
    /// --verbose: every event as a line.
    private let verbose: Bool
    /// Whether the bar is drawn (stderr is a terminal and not quiet).
    private let live: Bool
    /// Serializes events from the library's workers.
    private let lock = NSLock()
    /// Charts finished so far.
    private var done = 0
    /// Bytes downloaded so far.
    private var bytes: Int64 = 0
    /// The bar, redrawn in place.
    private var status = StatusLine()
    /// Index downloads under way: URL to bytes received (shown while no chart is done yet).
    private var indexes: [String: Int64] = [:]

    /// Progress for a run over `total` charts.
    init(total: Int, quiet: Bool, verbose: Bool) {
        self.total = total
        self.quiet = quiet
        self.verbose = verbose
        live = !quiet && isatty(STDERR_FILENO) == 1
    }

    /// The event handler to give the library.
    var handle: ChartSyncEventHandler {
        { [self] event in self.receive(event) }
    }

    /// Counts an event and shows it as the mode asks.
    private func receive(_ event: ChartSyncEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .indexWarning:
            line("warning: " + event.description.replacingOccurrences(of: "warning: ", with: ""))
            return
        case .downloaded(_, _, let n, _):
            done += 1
            bytes += n
        case .chartUnchanged, .chartUnpacked:
            done += 1
        case .fetchingIndex(let url):
            indexes[url] = 0
        case .indexProgress(let url, let n):
            indexes[url] = n
            // Too many for lines: only the live bar shows them.
            if live && !quiet { drawBar() }
            return
        case .readIndex(let url, _, _):
            indexes[url] = nil
        default:
            break
        }
        guard !quiet else { return }
        if live {
            if verbose { line(event.description) }
            drawBar()
        } else {
            switch event {
            case .downloaded, .chartUnpacked, .removed: line(event.description)
            default: if verbose { line(event.description) }
            }
        }
    }

    /// Clears the bar.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        status.clear()
    }

    /// A line on stderr, above the bar.
    private func line(_ text: String) {
        status.print(text, current: barText)
    }

    /// Draws the bar in place.
    private func drawBar() {
        status.show(barText())
    }

    /// The bar: charts done and bytes, or, while indexes are read, which one and how much.
    private func barText() -> String {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        if let (url, received) = indexes.min(by: { $0.key < $1.key }) {
            // The index phase: which repository, and how much of its index has come.
            let more = indexes.count > 1 ? " (+\(indexes.count - 1) more)" : ""
            return "[\(bar)] reading index \(url)\(more): \(ByteCountFormatter.string(fromByteCount: received, countStyle: .file))"
        }
        return "[\(bar)] \(done)/\(total) charts, \(ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file))"
    }
}
