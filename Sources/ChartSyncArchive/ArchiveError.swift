/// Why an archive could not be read.
public enum ArchiveError: Error, Sendable, CustomStringConvertible {
    /// libarchive could not open or decode the file.
    case unreadable(path: String, message: String)
    /// The chart tarball has no `<chart>/Chart.yaml`.
    case noChartFile(path: String)
    /// An entry is larger than the limit for its kind.
    case entryTooLarge(path: String, entry: String, limit: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let message): return "\(path): cannot read archive: \(message)"
        case .noChartFile(let path): return "\(path): no Chart.yaml at the top of the chart archive"
        case .entryTooLarge(let path, let entry, let limit): return "\(path): \(entry) is larger than \(limit) bytes"
        }
    }
}
