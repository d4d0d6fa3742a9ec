import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import Glibc

/// A helmfile read statically with everything it pulls in, in the order helmfile reads it: the
/// helmfile itself (or, for a `helmfile.d/` directory, every `*.y*ml` and `*.y*ml.gotmpl` in it,
/// sorted), then the `bases:` and `helmfiles:` (paths, `- path: x`, globs) each file names, paths
/// relative to the file naming them. The gate's helmfile check and the image scan read the same
/// tree. Reads files only (symbolic links are not followed); silent.
public struct HelmfileTree: Sendable {
    /// One helmfile file that was read.
    public struct Document: Sendable {
        /// Absolute, normalized.
        public let path: String
        /// Relative to the project root (`../` when outside it).
        public let file: String
        /// The directory its relative paths start from (absolute).
        public let directory: String
        /// What it says.
        public let helmfile: Helmfile
        /// The `bases:` and `helmfiles:` references that were not followed, in the order met
        /// (bases first): remote ones, patterns matching no file, paths outside the project when
        /// the tree is read `insideOnly`.
        public let skipped: [Skipped]
    }

    /// A reference that was not followed.
    public struct Skipped: Sendable, Equatable {
        /// Why.
        public enum Reason: Sendable, Equatable {
            /// `git::` or a URL: helmfile fetches it; the offline reader does not.
            case remote
            /// A `helmfiles:` pattern that matches no file.
            case noMatch
            /// Outside the project (only when read `insideOnly`).
            case outside
        }

        /// Why it was not followed.
        public let reason: Reason
        /// `base` or `sub-helmfile`.
        public let what: String
        /// The path as written.
        public let path: String
        /// The line naming it.
        public let line: Int
    }

    /// A file the tree should hold that could not be read.
    public struct Unread: Sendable {
        /// The file, relative to the project root.
        public let file: String
        /// Who names it (file and line), nil for the helmfile itself or a `helmfile.d/` file.
        public let from: (file: String, line: Int)?
        /// `helmfile`, `base` or `sub-helmfile`.
        public let what: String
        /// Nothing there (nil), or what is there instead of a regular file.
        public let type: FileType?
        /// Set when reading it failed (an I/O error), with the error's text.
        public let error: String?
    }

    /// What was read or could not be, in the order met.
    public enum Item: Sendable {
        /// A file that was read.
        case document(Document)
        /// A file that could not be read.
        case unread(Unread)
    }

    /// The helmfile (file or `helmfile.d/` directory), relative to the project root.
    public let file: String
    /// Every file read or not, in order.
    public let items: [Item]
    /// A `helmfile.d/` directory that holds no helmfile file (nothing is read).
    public let isEmptyDirectory: Bool

    /// The files that were read, in order.
    public var documents: [Document] {
        items.compactMap { if case .document(let document) = $0 { return document } else { return nil } }
    }

    /// The project's helmfile as helmfile finds it when given none: `helmfile.yaml`, else
    /// `helmfile.yaml.gotmpl`, else the directory `helmfile.d/` when it holds a helmfile file
    /// (`*.y*ml`, `*.y*ml.gotmpl`); beside the chart list. Nil when there is none.
    public static func defaultFile(_ layout: ProjectLayout) -> String? {
        if let file = ["helmfile.yaml", "helmfile.yaml.gotmpl"].map({ layout.root + "/" + $0 }).first(where: { FileSystem.exists($0) }) {
            return file
        }
        let directory = layout.root + "/helmfile.d"
        return FileSystem.isDirectory(directory) && !directoryFiles(directory).isEmpty ? directory : nil
    }

    /// Why helmfile refuses to run without `--file` in this project (two default helmfiles), or
    /// nil when it does not.
    public static func defaultConflict(_ layout: ProjectLayout) -> String? {
        let present = ["helmfile.yaml", "helmfile.yaml.gotmpl"].filter { FileSystem.exists(layout.root + "/" + $0) }
        if present.count == 2 { return "both helmfile.yaml and helmfile.yaml.gotmpl exist; helmfile refuses to choose (chartsync reads helmfile.yaml)" }
        let directory = layout.root + "/helmfile.d"
        if let file = present.first, FileSystem.isDirectory(directory), !directoryFiles(directory).isEmpty {
            return "both \(file) and helmfile.d/ exist; helmfile refuses to choose (chartsync reads \(file))"
        }
        return nil
    }

    /// The helmfile files of a `helmfile.d`-style directory, as helmfile takes them: the names
    /// matching `*.y*ml` or `*.y*ml.gotmpl` (a leading dot is matched too), sorted by path.
    static func directoryFiles(_ directory: String) -> [String] {
        let names = (try? FileSystem.listDirectory(directory)) ?? []
        return names.filter { fnmatch("*.y*ml", $0, 0) == 0 || fnmatch("*.y*ml.gotmpl", $0, 0) == 0 }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory + "/" + $0 }
    }

    /// Reads the helmfile at `helmfile` (absolute: a file, or a `helmfile.d`-style directory)
    /// and everything it pulls in, for the project at `layout`. With `insideOnly`, references
    /// leading outside the project are not followed (what a bundle cannot carry is not read).
    public init(layout: ProjectLayout, helmfile: String, insideOnly: Bool = false) {
        let root = Self.normalize(layout.root)
        func relative(_ path: String) -> String { Self.relative(path, root: root) }
        func isInside(_ path: String) -> Bool { let r = relative(path); return r != ".." && !r.hasPrefix("../") }
        let start = Self.normalize(helmfile)
        file = relative(start)
        var queue: [(path: String, from: (file: String, line: Int)?, what: String)] = []
        var empty = false
        if FileSystem.isDirectory(start) && !FileSystem.isSymlink(start) {
            let files = Self.directoryFiles(start)
            empty = files.isEmpty
            queue = files.map { (path: $0, from: nil, what: "helmfile") }
        } else {
            queue = [(start, nil, "helmfile")]
        }
        isEmptyDirectory = empty
        var items: [Item] = []
        var seen = Set<String>()
        var next = 0
        while next < queue.count {
            let (path, from, what) = queue[next]
            next += 1
            guard seen.insert(path).inserted else { continue }
            let shown = relative(path)
            let type: FileType?
            do {
                type = try FileSystem.type(of: path)
            } catch {
                items.append(.unread(Unread(file: shown, from: from, what: what, type: nil, error: error.message)))
                continue
            }
            guard type == .regular else {
                items.append(.unread(Unread(file: shown, from: from, what: what, type: type, error: nil)))
                continue
            }
            let helmfile: Helmfile
            do {
                helmfile = try HelmfileReader.read(path: path, source: shown)
            } catch {
                items.append(.unread(Unread(file: shown, from: from, what: what, type: type, error: error.message)))
                continue
            }
            let directory = FileSystem.parent(of: path)
            var skipped: [Skipped] = []
            for (kind, what) in [(Helmfile.File.Kind.base, "base"), (.helmfile, "sub-helmfile")] {
                for reference in helmfile.files where reference.kind == kind && !Helmfile.isTemplated(reference.path) {
                    if Self.isRemote(reference.path) {
                        skipped.append(Skipped(reason: .remote, what: what, path: reference.path, line: reference.line))
                        continue
                    }
                    let target = Self.normalize(reference.path.hasPrefix("/") ? reference.path : directory + "/" + reference.path)
                    var targets = [target]
                    if kind == .helmfile && reference.path.contains(where: { "*?[".contains($0) }) {
                        targets = Self.glob(target).map(Self.normalize)
                        if targets.isEmpty {
                            skipped.append(Skipped(reason: .noMatch, what: what, path: reference.path, line: reference.line))
                        }
                    }
                    if insideOnly, targets.contains(where: { !isInside($0) }) {
                        skipped.append(Skipped(reason: .outside, what: what, path: reference.path, line: reference.line))
                        targets = targets.filter(isInside)
                    }
                    for target in targets { queue.append((path: target, from: (file: shown, line: reference.line), what: what)) }
                }
            }
            items.append(.document(Document(path: path, file: shown, directory: directory, helmfile: helmfile, skipped: skipped)))
        }
        self.items = items
    }

    /// A reference helmfile fetches (go-getter `git::`, a URL).
    public static func isRemote(_ path: String) -> Bool { path.hasPrefix("git::") || path.contains("://") }

    /// The regular files matching a glob pattern (absolute), sorted.
    public static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
            .filter(FileSystem.isRegularFile).sorted()
    }

    /// `path` with `.`, `..` and repeated slashes resolved lexically (links are never followed).
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `path` (absolute, normalized) relative to `root` (absolute, normalized), with `../` when
    /// outside it; `.` for the root itself.
    public static func relative(_ path: String, root: String) -> String {
        let base = root.split(separator: "/")
        let parts = path.split(separator: "/")
        var common = 0
        while common < base.count && common < parts.count && base[common] == parts[common] { common += 1 }
        let up = Array(repeating: "..", count: base.count - common)
        let rest = (up + parts[common...].map(String.init)).joined(separator: "/")
        return rest.isEmpty ? "." : rest
    }
}
