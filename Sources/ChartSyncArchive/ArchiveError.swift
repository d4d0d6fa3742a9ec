import ChartSyncCore

/// Why an archive could not be read.
public enum ArchiveError: Error, Sendable, CustomStringConvertible {
    /// libarchive could not open or decode the file.
    case unreadable(path: String, message: String)
    /// The chart tarball has no `<chart>/Chart.yaml`.
    case noChartFile(path: String)
    /// An entry is larger than the limit for its kind.
    case entryTooLarge(path: String, entry: String, limit: Int)
    /// A file of the archive holds more bytes than the per-file limit of extraction.
    case fileTooLarge(path: String, entry: String, limit: Int64)
    /// An entry is outside the extraction allow-list (its name, type or mode); nothing was extracted.
    case unsafeEntry(path: String, entry: String, reason: String)
    /// The files of the archive, counted up to `entry`, hold more bytes than the limit.
    case archiveTooLarge(path: String, entry: String, limit: Int64)
    /// The archive has more entries than the limit; `entry` is the first one over it.
    case tooManyEntries(path: String, entry: String, limit: Int)
    /// libarchive failed while reading the data of `entry` (truncated or corrupt archive).
    case unreadableEntry(path: String, entry: String, message: String)
    /// The archive holds no regular files.
    case noFiles(path: String)
    /// The extraction destination already exists; extraction only creates fresh directories.
    case destinationExists(path: String)
    /// The extraction destination (or its staging directory beside it) could not be created.
    case cannotCreate(path: String, message: String)
    /// The top directory asked for is not a single safe path component.
    case invalidTopDirectory(name: String)
    /// A file-system operation failed while extracting `entry` of the archive at `path` to `target`.
    case cannotWrite(path: String, entry: String, target: String, message: String)
    /// A directory tree holds something other than regular files and directories, or an unusable name.
    case unsafeTreeEntry(path: String, reason: String)
    /// A directory tree could not be read.
    case cannotReadTree(path: String, message: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let message): return "\(path): cannot read archive: \(message)"
        case .noChartFile(let path): return "\(path): no Chart.yaml at the top of the chart archive"
        case .entryTooLarge(let path, let entry, let limit): return "\(path): entry \(Quoting.doubleQuoted(entry)) is larger than \(limit) bytes"
        case .fileTooLarge(let path, let entry, let limit):
            return "\(path): entry \(Quoting.doubleQuoted(entry)) holds more than \(limit) bytes (the limit for one file)"
        case .unsafeEntry(let path, let entry, let reason):
            return "\(path): refusing entry \(Quoting.doubleQuoted(entry)): \(reason)"
        case .archiveTooLarge(let path, let entry, let limit):
            return "\(path): the files up to entry \(Quoting.doubleQuoted(entry)) hold more than \(limit) bytes in total"
        case .tooManyEntries(let path, let entry, let limit):
            return "\(path): more than \(limit) entries (entry \(Quoting.doubleQuoted(entry)) is over the limit)"
        case .unreadableEntry(let path, let entry, let message):
            return "\(path): cannot read entry \(Quoting.doubleQuoted(entry)): \(message)"
        case .noFiles(let path): return "\(path): the archive holds no files"
        case .destinationExists(let path): return "\(path): already exists; extraction only creates a fresh directory"
        case .cannotCreate(let path, let message): return "\(path): cannot create: \(message)"
        case .invalidTopDirectory(let name):
            return "\(Quoting.doubleQuoted(name)) is not a valid top directory name (a single path component)"
        case .cannotWrite(let path, let entry, let target, let message):
            return "\(path): cannot extract entry \(Quoting.doubleQuoted(entry)) to \(target): \(message)"
        case .unsafeTreeEntry(let path, let reason): return "\(path): refusing \(reason)"
        case .cannotReadTree(let path, let message): return "\(path): cannot read: \(message)"
        }
    }
}
