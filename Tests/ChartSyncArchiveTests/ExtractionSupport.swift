import ChartSyncCore
import ChartSyncArchive
import ChartSyncTestSupport
import Foundation
import Testing

/// The process locale the CLI sets; libarchive needs it for non-ASCII names.
let utf8Locale: Bool = {
    setlocale(LC_ALL, "C.UTF-8")
    return true
}()

/// The coreutils tree digest of `directory`: the pipeline TreeDigest documents (with `xargs -d`
/// so that names with spaces survive xargs).
func coreutilsTreeDigest(_ directory: String) throws -> String {
    let script = #"cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum"#
    let output = try runCommand(["sh", "-c", script, "sh", directory])
    return String(output.prefix(64))
}

/// The names (bytes as text) in a directory, sorted; empty when it does not exist.
func listing(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

/// Whether anything (even a dangling symlink) exists at `path`.
func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// The permission bits of `path` (not following symlinks).
func mode(_ path: String) -> Int {
    var info = stat()
    guard lstat(path, &info) == 0 else { return -1 }
    return Int(info.st_mode & 0o7777)
}

/// Every path below `directory` (relative, directories with a trailing `/`), sorted.
func tree(_ directory: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
    var out: [String] = []
    while let next = enumerator.nextObject() as? String {
        var info = stat()
        lstat(directory + "/" + next, &info)
        out.append((info.st_mode & S_IFMT) == S_IFDIR ? next + "/" : next)
    }
    return out.sorted()
}

/// The parts of an ArchiveError the tests look at.
struct ErrorParts: Equatable {
    var kind: String
    var entry: String?
    var reason: String?

    init(kind: String, entry: String? = nil, reason: String? = nil) {
        self.kind = kind
        self.entry = entry
        self.reason = reason
    }

    init(_ error: ArchiveError) {
        switch error {
        case .unreadable(_, let message): self.kind = "unreadable"; reason = message
        case .noChartFile: kind = "noChartFile"
        case .entryTooLarge(_, let entry, _): kind = "entryTooLarge"; self.entry = entry
        case .fileTooLarge(_, let entry, _): kind = "fileTooLarge"; self.entry = entry
        case .unsafeEntry(_, let entry, let reason): kind = "unsafeEntry"; self.entry = entry; self.reason = reason
        case .archiveTooLarge(_, let entry, _): kind = "archiveTooLarge"; self.entry = entry
        case .tooManyEntries(_, let entry, _): kind = "tooManyEntries"; self.entry = entry
        case .unreadableEntry(_, let entry, let message): kind = "unreadableEntry"; self.entry = entry; reason = message
        case .noFiles: kind = "noFiles"
        case .destinationExists: kind = "destinationExists"
        case .invalidTopDirectory: kind = "invalidTopDirectory"
        case .cannotWrite(_, let entry, _, let message): kind = "cannotWrite"; self.entry = entry; reason = message
        case .cannotCreate(_, let message): kind = "cannotCreate"; reason = message
        case .unsafeTreeEntry(_, let reason): kind = "unsafeTreeEntry"; self.reason = reason
        case .cannotReadTree(_, let message): kind = "cannotReadTree"; reason = message
        default: kind = "bundle"  // the bundle cases; BundleErrorParts looks at those
        }
    }
}

/// An entry name as messages quote it (Go's %q style).
func quoted(_ text: String) -> String { Quoting.doubleQuoted(text) }
