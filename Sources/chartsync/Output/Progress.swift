import ChartSync
import Dispatch
import Foundation

/// Progress on stderr: a live bar when stderr is a terminal, plain lines otherwise, nothing
/// with --quiet (warnings still show).
final class Progress: @unchecked Sendable {
    private let total: Int
    private let quiet: Bool
    private let verbose: Bool
    private let live: Bool
    private let lock = NSLock()
    private var done = 0
    private var bytes: Int64 = 0
    private var barShown = false

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
        if barShown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        barShown = false
    }

    private func line(_ text: String) {
        if barShown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data(("chartsync: " + text + "\n").utf8))
        if barShown { drawBar() }
    }

    private func drawBar() {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "\r[\(bar)] \(done)/\(total) charts, \(ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file))\u{1B}[K"
        FileHandle.standardError.write(Data(text.utf8))
        barShown = true
    }
}

/// Turns SIGINT and SIGTERM into a call (cancellation), so a run can clean up and leave no trace.
final class SignalTrap {
    private let sources: [DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
