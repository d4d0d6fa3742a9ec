import ChartSync
import Foundation

/// Progress of the commands that move image blobs (`images --pull`, `push`) on stderr: a live
/// line of blobs and bytes when stderr is a terminal, plain lines otherwise (a line per blob
/// fetched or sent and per tag pushed), nothing with --quiet; warnings always show.
final class BlobProgress: @unchecked Sendable {
    /// What the bytes are: "fetched" or "sent".
    private let verb: String
    private let quiet: Bool
    /// Whether the line is drawn in place (stderr is a terminal and not quiet).
    private let live: Bool
    private let lock = NSLock()
    private var blobs = 0, mounted = 0, present = 0, tags = 0
    private var bytes: Int64 = 0
    private var status = StatusLine()

    /// Progress whose bytes are `verb` ("fetched", "sent").
    init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
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
        case .imageLayerSkipped:
            line(event.description)
            return
        case .imageBlobFetched(_, let size, _):
            blobs += 1
            bytes += size
        case .blobPushed(_, _, let outcome):
            switch outcome {
            case .uploaded(let sent): blobs += 1; bytes += sent
            case .mounted: mounted += 1
            case .present: present += 1
            }
            // A blob the registry has already is not news.
            if case .present = outcome { if live { draw() }; return }
        case .artifactPushed:
            tags += 1
        case .removed:
            break
        default:
            return
        }
        guard !quiet else { return }
        if live { draw() } else { line(event.description) }
    }

    /// Clears the live line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        status.clear()
    }

    /// A line on stderr, above the live one.
    private func line(_ text: String) {
        status.print(text, current: self.text)
    }

    private func draw() {
        status.show(text())
    }

    /// Blobs and bytes so far, mounts, blobs there already, tags.
    private func text() -> String {
        var text = "\(blobs) blob(s) \(verb), \(ByteCount.text(bytes))"
        if mounted > 0 { text += ", \(mounted) mounted" }
        if present > 0 { text += ", \(present) already there" }
        if tags > 0 { text += ", \(tags) tag(s)" }
        return text
    }
}
