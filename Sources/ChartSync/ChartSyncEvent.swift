import ChartSyncIndex

/// Progress and diagnostics the use cases report instead of printing.
public enum ChartSyncEvent: Sendable, CustomStringConvertible {
    /// An index download is starting (URL redacted).
    case fetchingIndex(url: String)
    /// An index was downloaded and read.
    case readIndex(url: String, bytes: Int64, charts: Int)
    /// The index has an entry Helm would skip or a doubtful one.
    case indexWarning(IndexWarning)
    /// A chart tarball was added to a repository index.
    case indexedChart(name: String, version: String, file: String)

    public var description: String {
        switch self {
        case .fetchingIndex(let url): return "fetching \(url)"
        case .readIndex(let url, let bytes, let charts): return "read \(url) (\(bytes) bytes, \(charts) chart(s) kept)"
        case .indexWarning(let warning): return "warning: \(warning)"
        case .indexedChart(let name, let version, let file): return "indexed \(name) \(version) from \(file)"
        }
    }
}

/// Receives events; called from the thread doing the work.
public typealias ChartSyncEventHandler = @Sendable (ChartSyncEvent) -> Void
