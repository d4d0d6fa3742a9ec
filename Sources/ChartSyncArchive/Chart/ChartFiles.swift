internal import CArchive
import ChartSyncCore

/// The files of a packaged chart that reading its contents needs (Chart.yaml, values.yaml,
/// requirements.yaml and the templates), held in memory, with its subcharts: `charts/*.tgz`
/// archives inside it (read from memory, recursively) and `charts/<name>/` directories.
public struct ChartFiles: Sendable {
    /// The prefix of this chart's entry names in messages: `argo/` for the top chart (empty for a
    /// chart packed as `./Chart.yaml`),
    /// `argo/charts/nfd/` for a subchart directory, `argo/charts/minio-0.4.3.tgz!minio/` for a
    /// chart archive inside the tarball (the part after `!` is the entry name inside that archive).
    public let entryPrefix: String
    /// Chart.yaml, values.yaml, requirements.yaml and every regular file below `templates/` (and
    /// below the directories `read` was asked to include, such as `crds/`), keyed by their path
    /// relative to the chart's directory.
    public let files: [String: [UInt8]]
    /// The subcharts under `charts/`, sorted by their entry name; names starting with `_` or `.` are
    /// ignored, as Helm ignores them.
    public let subcharts: [ChartFiles]

    /// The name of `relative` (a path below the chart's directory) for messages.
    public func entryName(_ relative: String) -> String { entryPrefix + relative }

    /// Reads the chart tarball at `path` (gzip'd tar) with the entry rules of ``ChartExtractor``:
    /// regular files and directories with normalized relative names under one top directory only
    /// (links, devices, `..`, absolute names, duplicates and entries libarchive warns about are
    /// refused with the archive and entry named). `limits` count every entry and every decompressed
    /// byte of the tarball and of all chart archives inside it together (Helm's own limits are
    /// 100 MiB in total and 5 MiB per file); subcharts (archives or directories) nest at most
    /// `maxNesting` levels below the top chart. `including` names further top-level directories of
    /// every chart of the tree whose files are kept too (`crds` for `diff`).
    public static func read(
        tarball path: String, limits: ExtractionLimits = .init(), maxNesting: Int = 8, including: Set<String> = []
    ) throws(ArchiveError) -> ChartFiles {
        let (reader, input) = try ChartInput.open(path: path, limits: limits)
        defer { archive_read_free(reader); withExtendedLifetime(input) {} }
        var budget = Budget(limits: limits, maxNesting: maxNesting, including: including)
        do {
            return try read(reader: reader, tarball: path, archive: path, prefix: "", depth: 0, budget: &budget)
        } catch {
            throw input.explain(error)
        }
    }

    /// The running totals of one tarball and the archives inside it.
    struct Budget {
        let limits: ExtractionLimits
        let maxNesting: Int
        /// Top-level directories kept besides `templates/`.
        var including: Set<String> = []
        var entries = 0
        var bytes: Int64 = 0
    }

    /// Whether a name below `charts/` is one Helm skips.
    static func isIgnoredSubchartName(_ name: String) -> Bool {
        name.hasPrefix("_") || name.hasPrefix(".")
    }

    /// Whether the file at `components` (below the top directory) is kept: chart files of this chart
    /// or of a subchart directory (with the files below the directories in `including`), and chart
    /// archives under a `charts/`.
    static func isWanted(_ components: [String], including: Set<String> = []) -> Bool {
        var rest = components[...]
        while rest.count >= 3, rest.first == "charts" {
            let name = rest[rest.startIndex + 1]
            if isIgnoredSubchartName(name) { return false }
            rest = rest.dropFirst(2)
        }
        if rest.count == 2, rest.first == "charts" {
            let name = rest[rest.startIndex + 1]
            return !isIgnoredSubchartName(name) && name.hasSuffix(".tgz")
        }
        if rest.count == 1 { return ["Chart.yaml", "values.yaml", "requirements.yaml"].contains(rest.first!) }
        return rest.count >= 2 && (rest.first == "templates" || including.contains(rest.first!))
    }

    /// Reads every entry of the open `reader` (the archive `archive`, named in errors: `tarball`
    /// itself or `tarball!<entry chain>`), keeping the wanted files, then assembles the chart and
    /// reads its nested chart archives.
    static func read(
        reader: OpaquePointer, tarball: String, archive: String, prefix: String, depth: Int, budget: inout Budget
    ) throws(ArchiveError) -> ChartFiles {
        func refuse(_ name: String, _ reason: String) -> ArchiveError { .unsafeEntry(path: archive, entry: name, reason: reason) }
        let limits = budget.limits
        var top: String?
        var seenFiles = Set<String>()
        var explicitDirectories = Set<String>()
        var impliedDirectories = Set<String>()
        var kept: [String: [UInt8]] = [:]
        var previous: String?
        while let (entry, warned) = try LibArchiveEntry.next(reader, archive: archive, previous: previous) {
            let (name, text, problem) = LibArchiveEntry.name(of: entry)
            budget.entries += 1
            if budget.entries > limits.maxEntries { throw .tooManyEntries(path: archive, entry: name, limit: limits.maxEntries) }
            if warned { throw refuse(name, "libarchive warned: \(LibArchiveEntry.message(reader))") }
            guard let text else { throw refuse(name, problem ?? "has no name") }
            let isDirectory: Bool
            switch LibArchiveEntry.kind(of: entry) {
            case .success(let value): isDirectory = value
            case .failure(let refusal): throw refuse(name, refusal.reason)
            }
            let split: EntryPath.Split
            switch EntryPath.split(text, isDirectory: isDirectory) {
            case .success(let value): split = value
            case .failure(let refusal): throw refuse(name, refusal.reason)
            }
            if let top, split.top != top {
                throw refuse(name, "is outside the top directory \(Quoting.doubleQuoted(top + "/"))")
            }
            top = split.top
            let relative = split.relative
            // The same conflicts extraction refuses: under an earlier file, or a name taken twice.
            var parent = ""
            for component in split.components.dropLast() {
                parent = parent.isEmpty ? component : parent + "/" + component
                if seenFiles.contains(parent) { throw refuse(name, "lies under the earlier file \(Quoting.doubleQuoted(parent))") }
                impliedDirectories.insert(parent)
            }
            if isDirectory {
                if seenFiles.contains(relative) { throw refuse(name, "has the same path as an earlier file") }
                guard explicitDirectories.insert(relative).inserted else { throw refuse(name, "duplicates an earlier entry") }
                impliedDirectories.insert(relative)
                previous = name
                continue
            }
            guard !split.components.isEmpty else {
                throw refuse(name, "is a file in place of the top directory \(Quoting.doubleQuoted(split.top + "/"))")
            }
            if impliedDirectories.contains(relative) { throw refuse(name, "has the same path as an earlier directory") }
            guard seenFiles.insert(relative).inserted else { throw refuse(name, "duplicates an earlier entry") }
            if archive_entry_size_is_set(entry) != 0 {
                let declared = archive_entry_size(entry)
                if declared > limits.maxFileBytes { throw .fileTooLarge(path: archive, entry: name, limit: limits.maxFileBytes) }
                if budget.bytes + declared > limits.maxTotalBytes {
                    throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes)
                }
            }
            if isWanted(split.components, including: budget.including) {
                kept[relative] = try readData(reader, archive: archive, entry: name, budget: &budget)
            } else {
                // Skipping still decompresses; count what the header declares (tar data is exactly that long).
                let declared = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0
                budget.bytes += declared
                if budget.bytes > limits.maxTotalBytes { throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes) }
                guard archive_read_data_skip(reader) == ARCHIVE_OK else {
                    throw .unreadableEntry(path: archive, entry: name, message: LibArchiveEntry.message(reader))
                }
            }
            previous = name
        }
        guard let top, !seenFiles.isEmpty else { throw .noFiles(path: archive) }
        guard kept["Chart.yaml"] != nil else { throw .noChartFile(path: archive) }
        // A chart packed as `./Chart.yaml` has no top directory to show.
        let shown = top == "." ? prefix : prefix + top + "/"
        return try assemble(kept, tarball: tarball, archive: archive, prefix: shown, depth: depth, budget: &budget)
    }

    /// Reads the data of the current entry, counting it against the per-file and total limits.
    static func readData(
        _ reader: OpaquePointer, archive: String, entry name: String, budget: inout Budget
    ) throws(ArchiveError) -> [UInt8] {
        let limits = budget.limits
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = block.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress!, $0.count) }
            if count == 0 { break }
            guard count > 0 else { throw .unreadableEntry(path: archive, entry: name, message: LibArchiveEntry.message(reader)) }
            budget.bytes += Int64(count)
            if Int64(bytes.count + count) > limits.maxFileBytes {
                throw .fileTooLarge(path: archive, entry: name, limit: limits.maxFileBytes)
            }
            if budget.bytes > limits.maxTotalBytes { throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes) }
            bytes.append(contentsOf: block[0..<count])
        }
        return bytes
    }

    /// Builds the chart whose files (relative to its directory) are `files`: subchart directories
    /// become subcharts with their own files, chart archives under `charts/` are read from memory.
    static func assemble(
        _ files: [String: [UInt8]], tarball: String, archive: String, prefix: String, depth: Int, budget: inout Budget
    ) throws(ArchiveError) -> ChartFiles {
        var own: [String: [UInt8]] = [:]
        var directories: [String: [String: [UInt8]]] = [:]
        var archives: [(String, [UInt8])] = []
        for (path, bytes) in files {
            let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if components.count >= 3, components[0] == "charts" {
                directories[components[1], default: [:]][components.dropFirst(2).joined(separator: "/")] = bytes
            } else if components.count == 2, components[0] == "charts" {
                archives.append((components[1], bytes))
            } else {
                own[path] = bytes
            }
        }
        var subcharts: [(String, ChartFiles)] = []
        for (name, inner) in directories {
            let subPrefix = prefix + "charts/" + name + "/"
            guard depth < budget.maxNesting else {
                throw .unsafeEntry(path: archive, entry: subPrefix, reason: "nests subcharts more than \(budget.maxNesting) levels deep")
            }
            guard inner["Chart.yaml"] != nil else {
                throw .unsafeEntry(path: archive, entry: subPrefix, reason: "is a subchart directory without a Chart.yaml (Helm refuses such a chart)")
            }
            subcharts.append((name, try assemble(inner, tarball: tarball, archive: archive, prefix: subPrefix, depth: depth + 1, budget: &budget)))
        }
        for (name, bytes) in archives {
            let entry = prefix + "charts/" + name
            guard depth < budget.maxNesting else {
                throw .unsafeEntry(path: archive, entry: entry, reason: "nests subcharts more than \(budget.maxNesting) levels deep")
            }
            let nested = tarball + "!" + entry
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(ArchiveError) -> ChartFiles in
                    let (reader, input) = try ChartInput.open(memory: raw, name: nested, limits: budget.limits)
                    defer { archive_read_free(reader); withExtendedLifetime(input) {} }
                    do throws(ArchiveError) {
                        return try read(reader: reader, tarball: tarball, archive: nested, prefix: entry + "!", depth: depth + 1, budget: &budget)
                    } catch {
                        throw input.explain(error)
                    }
                }
            }
            subcharts.append((name, try result.get()))
        }
        subcharts.sort { EntryPath.byteOrder($0.0, $1.0) }
        return ChartFiles(entryPrefix: prefix, files: own, subcharts: subcharts.map(\.1))
    }
}
