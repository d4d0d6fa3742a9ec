internal import CArchive
import ChartSyncCore

/// What chartsync needs from a packaged chart without unpacking it.
public struct ChartArchive: Sendable {
    /// The top directory of the chart inside the tarball (normally the chart's name).
    public let directory: String
    /// The bytes of `<directory>/Chart.yaml`.
    public let chartFile: [UInt8]
    /// The newest modification time of any entry, in seconds since 1970 (0 when none is set).
    public let newestModification: Int64

    /// Reads a chart tarball (gzip'd tar, as `helm package` writes) with libarchive, taking the
    /// top-level `Chart.yaml` (not a subchart's) and, with `scanAll`, the newest entry time of all
    /// entries (otherwise reading stops at Chart.yaml and the time covers the entries before it).
    /// The whole stream may decompress to no more than `limits` allow (Helm's 100 MiB by default),
    /// and reading stops when `cancellation` is set.
    public init(path: String, maxChartFileBytes: Int = 1 << 20, scanAll: Bool = true,
                limits: ExtractionLimits = .init(), cancellation: Cancellation? = nil) throws(ArchiveError) {
        // gzip only: some of libarchive's other filters run external programs.
        let (reader, input) = try ChartInput.open(path: path, limits: limits, cancellation: cancellation)
        try self.init(reader: reader, input: input, path: path, maxChartFileBytes: maxChartFileBytes, scanAll: scanAll)
    }

    /// Reads a chart tarball held in memory (`name` in messages) like ``init(path:maxChartFileBytes:scanAll:limits:cancellation:)``.
    public init(bytes: [UInt8], name: String, maxChartFileBytes: Int = 1 << 20, scanAll: Bool = true,
                limits: ExtractionLimits = .init(), cancellation: Cancellation? = nil) throws(ArchiveError) {
        let result: Result<ChartArchive, ArchiveError> = bytes.withUnsafeBytes { memory in
            do throws(ArchiveError) {
                let (reader, input) = try ChartInput.open(memory: memory, name: name, limits: limits, cancellation: cancellation)
                return .success(try ChartArchive(reader: reader, input: input, path: name, maxChartFileBytes: maxChartFileBytes,
                                                 scanAll: scanAll))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Scans the tarball `reader` reads from `input` (freed here).
    private init(reader: OpaquePointer, input: ChartInput, path: String, maxChartFileBytes: Int, scanAll: Bool) throws(ArchiveError) {
        defer { archive_read_free(reader); withExtendedLifetime(input) {} }
        let scanned: (found: (String, [UInt8])?, newest: Int64)
        do {
            scanned = try Self.scan(reader, path: path, maxChartFileBytes: maxChartFileBytes, scanAll: scanAll)
        } catch {
            throw input.explain(error)
        }
        let newest = scanned.newest
        guard let found = scanned.found else { throw .noChartFile(path: path) }
        directory = found.0
        chartFile = found.1
        newestModification = newest
    }

    /// Walks the entries: the top-level Chart.yaml and the newest entry time.
    private static func scan(_ reader: OpaquePointer, path: String, maxChartFileBytes: Int,
                             scanAll: Bool) throws(ArchiveError) -> (found: (String, [UInt8])?, newest: Int64) {
            var found: (String, [UInt8])?
        var newest: Int64 = 0
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw .unreadable(path: path, message: ChartArchive.message(reader))
            }
            newest = max(newest, Int64(archive_entry_mtime(entry)))
            guard found == nil, let name = archive_entry_pathname_utf8(entry).map({ String(cString: $0) }) else { continue }
            let parts = name.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[1] == "Chart.yaml",
                  (archive_entry_filetype(entry) & carchive_AE_IFMT) == carchive_AE_IFREG else { continue }
            let size = Int(archive_entry_size(entry))
            guard size <= maxChartFileBytes else {
                throw .entryTooLarge(path: path, entry: name, limit: maxChartFileBytes)
            }
            var bytes = [UInt8](repeating: 0, count: size)
            var done = 0
            while done < size {
                let n = bytes.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress! + done, size - done) }
                guard n > 0 else { throw .unreadable(path: path, message: n < 0 ? ChartArchive.message(reader) : "\(name) is truncated") }
                done += n
            }
            found = (String(parts[0]), bytes)
            if !scanAll { break }
        }
        return (found, newest)
    }

    private static func message(_ reader: OpaquePointer) -> String {
        archive_error_string(reader).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
