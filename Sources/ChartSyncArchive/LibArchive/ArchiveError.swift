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
    /// The bundle writer or reader was asked something inconsistent (a bad payload path, a duplicate,
    /// a payload file without an expected size and digest, a bad split size).
    case invalidBundleRequest(reason: String)
    /// The payload file at `source` (bundle path `entry`) differs from what the manifest says: it changed since.
    case payloadChanged(source: String, entry: String, reason: String)
    /// The payload file at `source` (payload path `path`) has the expected size but its bytes hash
    /// to `actual`, not to the `expected` SHA-256 the manifest lists (found while streaming it).
    case payloadMismatch(source: String, path: String, expected: ChartSyncCore.Digest, actual: ChartSyncCore.Digest)
    /// The payload file at `source` (bundle path `entry`) could not be read.
    case cannotReadSource(source: String, entry: String, message: String)
    /// Writing the bundle at `path` failed; nothing of it was left.
    case cannotWriteBundle(path: String, message: String)
    /// A file the bundle at `path` would be written to (`name`: the file or one of its parts) exists already.
    case bundleExists(path: String, name: String)
    /// The archive does not start with `MANIFEST` (`firstEntry` is what it starts with, nil when it is empty).
    case noManifest(path: String, firstEntry: String?)
    /// A part of the bundle could not be opened or read.
    case cannotReadPart(part: String, message: String)
    /// A part of the bundle is shorter than the size expected for it.
    case truncatedPart(part: String, expectedSize: Int64, actualSize: Int64)
    /// A part of the bundle has other bytes than expected (`reason` says which check failed).
    case corruptPart(part: String, reason: String)
    /// The number of parts given differs from the number expected.
    case partCountMismatch(path: String, expected: Int, actual: Int)
    /// The bundle's stream ends before its archive does (inside `entry`, or between entries when nil);
    /// `lastPart` is the part it ends in.
    case truncatedBundle(path: String, lastPart: String, entry: String?, message: String)
    /// An entry's size (from its header, or counted) differs from the size the manifest gives.
    case entrySizeMismatch(path: String, entry: String, expected: Int64, actual: Int64)
    /// An entry's SHA-256 differs from the one the manifest gives.
    case entryDigestMismatch(path: String, entry: String, expected: ChartSyncCore.Digest, actual: ChartSyncCore.Digest)
    /// Files the manifest lists are not in the bundle (entry names, sorted).
    case missingEntries(path: String, entries: [String])
    /// A chart directory cannot be packaged (its `.helmignore` is unusable, Chart.yaml is left out, ...).
    case invalidChartDirectory(path: String, reason: String)
    /// Writing the packaged chart at `path` failed; nothing of it was left.
    case cannotWriteChart(path: String, message: String)
    /// A ``BundleEntryConsumer`` stopped the stream at `entry` (it keeps its own reason).
    case consumerStopped(path: String, entry: String)
    /// The work was cancelled (Ctrl-C); what it had written is removed.
    case interrupted

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
        case .invalidBundleRequest(let reason): return "invalid bundle request: \(reason)"
        case .payloadChanged(let source, let entry, let reason):
            return "\(source): changed since the manifest was made (bundle entry \(Quoting.doubleQuoted(entry))): \(reason)"
        case .payloadMismatch(let source, let path, let expected, let actual):
            return "\(source): changed since the manifest was made (bundle entry \(Quoting.doubleQuoted(BundlePath.entryName(path)))): "
                + "its sha256 is \(actual.hex), the manifest says \(expected.hex)"
        case .cannotReadSource(let source, let entry, let message):
            return "\(source): cannot read (bundle entry \(Quoting.doubleQuoted(entry))): \(message)"
        case .cannotWriteBundle(let path, let message): return "\(path): cannot write the bundle: \(message)"
        case .bundleExists(let path, let name):
            return name == path ? "\(path): already exists; a bundle is only written to a fresh name"
                : "\(path): \(name) already exists; a bundle is only written to a fresh name"
        case .noManifest(let path, let firstEntry):
            guard let firstEntry else { return "\(path): not a bundle: the archive is empty (no \"MANIFEST\" entry)" }
            return "\(path): not a bundle: the first entry is \(Quoting.doubleQuoted(firstEntry)), not \"MANIFEST\""
        case .cannotReadPart(let part, let message): return "part \(part) cannot be read: \(message)"
        case .truncatedPart(let part, let expected, let actual):
            return "part \(part) is truncated: expected \(expected) bytes, found \(actual)"
        case .corruptPart(let part, let reason): return "part \(part) is corrupt: \(reason)"
        case .partCountMismatch(let path, let expected, let actual):
            return "\(path): expected \(expected) part\(expected == 1 ? "" : "s"), got \(actual)"
        case .truncatedBundle(let path, let lastPart, let entry, let message):
            let place = entry.map { "inside entry \(Quoting.doubleQuoted($0))" } ?? "before the end of the archive"
            if lastPart == path { return "\(path): the bundle ends \(place) (the file is truncated): \(message)" }
            return "\(path): the bundle ends \(place), at the end of part \(lastPart) (truncated, or a later part missing): \(message)"
        case .entrySizeMismatch(let path, let entry, let expected, let actual):
            return "\(path): entry \(Quoting.doubleQuoted(entry)) holds \(actual) bytes, the manifest says \(expected)"
        case .entryDigestMismatch(let path, let entry, let expected, let actual):
            return "\(path): entry \(Quoting.doubleQuoted(entry)) is corrupt: expected sha256 \(expected.hex), got \(actual.hex)"
        case .missingEntries(let path, let entries):
            let shown = entries.prefix(10).map(Quoting.doubleQuoted).joined(separator: ", ")
            let more = entries.count > 10 ? " and \(entries.count - 10) more" : ""
            let count = entries.count == 1 ? "1 file" : "\(entries.count) files"
            return "\(path): \(count) of the manifest \(entries.count == 1 ? "is" : "are") missing from the bundle: \(shown)\(more)"
        case .invalidChartDirectory(let path, let reason): return "\(path): cannot package the chart: \(reason)"
        case .cannotWriteChart(let path, let message): return "\(path): cannot write the packaged chart: \(message)"
        case .consumerStopped(let path, let entry): return "\(path): reading stopped at entry \(Quoting.doubleQuoted(entry))"
        case .interrupted: return "interrupted"
        }
    }
}
